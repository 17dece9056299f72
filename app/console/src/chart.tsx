// A market's moving average of awarded prices over slots, charted with uPlot from the program's
// events: every award's WinnerSelected carries the average once it counted.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface PricePoint {
  slot: number;
  ewma: number;
}

export function PriceChart({ points }: { points: PricePoint[] }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!holder.current || points.length === 0) return;
    const data: uPlot.AlignedData = [points.map((p) => p.slot), points.map((p) => p.ewma)];
    const plot = new uPlot(
      {
        width: 520,
        height: 160,
        scales: { x: { time: false } },
        axes: [{ label: "slot" }, { label: "µ per unit" }],
        series: [{ label: "slot" }, { label: "EWMA clearing price", stroke: "#4a5d7e", width: 2, points: { show: true } }],
      },
      data,
      holder.current,
    );
    return () => plot.destroy();
  }, [points]);
  if (points.length === 0) return <p data-testid="price-chart-empty">no award yet: the average is still 0</p>;
  return <div ref={holder} data-testid="price-chart" data-points={points.length} />;
}
