// Fills the times and mode controls of the popup and the options page from
// what the core offers (`offeredChoices()`, through the background): the
// modes, their labels and the bounds live in the core, not here.

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

// `offered`: {modes: [[value, label]…], maxTimes, maxDepth}; `chosen`: the
// choice to show.
export function fillChoices({ times, mode, depth }, offered, chosen) {
  times.replaceChildren(option("auto", "auto (from the job's failure rate)"));
  for (let n = 1; n <= offered.maxTimes; n += 1) {
    times.appendChild(option(String(n), String(n)));
  }
  mode.replaceChildren(...offered.modes.map(([value, text]) => option(value, text)));
  times.value = String(chosen.times);
  mode.value = chosen.mode;
  depth.max = String(offered.maxDepth);
  depth.value = String(chosen.depth);
}
