// The culprit search's per-push chart, drawn as SVG from the core's
// `CulpritRun.chart` columns: passed and failed runs as stacked bars, and
// below them each push's probability of being the culprit. Built with DOM
// calls only (no markup strings): revisions and texts come from the network.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 360;
const RUNS_HEIGHT = 70;
const POSTERIOR_HEIGHT = 30;
const GAP = 6;
const LABEL_HEIGHT = 12;

function svgElement(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  return node;
}

function columnTitle(bar) {
  const where = bar.index >= 1 ? `push ${bar.index} (${bar.label})` : "pushes before the range";
  const planned = bar.planned > 0 ? `, ${bar.planned} more asked for` : "";
  return `${where}: ${bar.failures} failed of ${bar.runs} run(s)${planned}; P(culprit) = ${bar.posterior.toFixed(3)}`;
}

// `run`: a CulpritRun from the core. Returns an <svg> element.
export function culpritChart(run) {
  const bars = Array.isArray(run.chart) ? run.chart : [];
  const height = RUNS_HEIGHT + GAP + POSTERIOR_HEIGHT + LABEL_HEIGHT;
  const svg = svgElement("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: WIDTH,
    height,
    role: "img",
    class: "mozci-chart",
  });
  const culpritId = run.done && run.culprit ? run.culprit.id : null;
  svg.setAttribute("aria-label", `Runs and culprit probability of ${bars.length} push(es): ${run.answer_text || ""}`);
  const title = svgElement("title", {});
  title.textContent = run.answer_text || "culprit search";
  svg.appendChild(title);
  if (bars.length === 0) {
    return svg;
  }
  const slot = WIDTH / bars.length;
  const barWidth = Math.max(2, slot * 0.7);
  const maxRuns = Math.max(1, ...bars.map((b) => b.runs + b.planned));
  const unit = RUNS_HEIGHT / maxRuns;
  const posteriorTop = RUNS_HEIGHT + GAP;
  svg.appendChild(
    svgElement("line", { x1: 0, x2: WIDTH, y1: RUNS_HEIGHT + 0.5, y2: RUNS_HEIGHT + 0.5, class: "axis" }),
  );
  bars.forEach((bar, i) => {
    const x = i * slot + (slot - barWidth) / 2;
    const group = svgElement("g", { class: "column", "data-index": bar.index });
    if (bar.push_id != null) {
      group.setAttribute("data-push-id", bar.push_id);
    }
    if (culpritId !== null && bar.push_id === culpritId) {
      group.classList.add("culprit");
      group.appendChild(
        svgElement("rect", { x: i * slot + 0.5, y: 0.5, width: slot - 1, height: height - LABEL_HEIGHT - 1, class: "highlight" }),
      );
    }
    const tip = svgElement("title", {});
    tip.textContent = columnTitle(bar);
    group.appendChild(tip);
    const passes = bar.runs - bar.failures;
    let top = RUNS_HEIGHT;
    for (const [count, cls] of [
      [passes, "passed"],
      [bar.failures, "failed"],
      [bar.planned, "planned"],
    ]) {
      if (count > 0) {
        top -= count * unit;
        group.appendChild(svgElement("rect", { x, y: top, width: barWidth, height: count * unit, class: cls }));
      }
    }
    const p = Math.min(1, Math.max(0, Number(bar.posterior) || 0));
    group.appendChild(
      svgElement("rect", { x, y: posteriorTop + (1 - p) * POSTERIOR_HEIGHT, width: barWidth, height: p * POSTERIOR_HEIGHT, class: "posterior" }),
    );
    if (bars.length <= 24) {
      const label = svgElement("text", { x: i * slot + slot / 2, y: height - 2, class: "label" });
      label.textContent = bar.index >= 1 ? String(bar.index) : "≤0";
      group.appendChild(label);
    }
    svg.appendChild(group);
  });
  return svg;
}
