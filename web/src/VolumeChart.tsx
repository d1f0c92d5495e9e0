import { useEffect, useRef } from "react";
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Invoices sent per day as a bar chart; the numbers are also in a table for screen readers. */
export function VolumeChart({ name, daily }: { name: string; daily: { day: string; invoices: number }[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels: daily.map((d) => new Date(`${d.day}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" })),
        datasets: [{ label: "Invoices sent", data: daily.map((d) => d.invoices), backgroundColor: "#0b5cad" }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { ticks: { maxTicksLimit: 8 } } },
      },
    });
    return () => chart.destroy();
  }, [daily]);
  const total = daily.reduce((sum, d) => sum + d.invoices, 0);
  return (
    <figure className="chart-figure">
      <div className="chart">
        <canvas ref={canvas} role="img" aria-label={`${name}: ${total} invoices sent in the last ${daily.length} days, by day`} />
      </div>
      <figcaption className="hint">Invoices sent per day, last {daily.length} days</figcaption>
      <table className="visually-hidden">
        <caption>Invoices sent per day for {name}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Invoices</th>
          </tr>
        </thead>
        <tbody>
          {daily.map((d) => (
            <tr key={d.day}>
              <td>{d.day}</td>
              <td>{d.invoices}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
