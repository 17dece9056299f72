// Dissection games for the daemons: readings of game accounts, replays of jobs, one move.
export * from "./player";
export * from "./replays";
export * from "./sources";
export * from "./view";
