// Fills the times and mode controls of the popup and the options page from
// what the core offers (`offeredChoices()`, through the background): the
// modes, their labels and the bounds live in the core, not here.

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

// `offered`: {modes: [[value, label]…], culpritModes: [value…], maxTimes,
// maxDepth}; `chosen`: the choice to show. Options of the culprit search's
// modes are marked `data-culprit` (see `isCulpritMode`).
export function fillChoices({ times, mode, depth }, offered, chosen) {
  times.replaceChildren(option("auto", "auto (from the job's failure rate)"));
  for (let n = 1; n <= offered.maxTimes; n += 1) {
    times.appendChild(option(String(n), String(n)));
  }
  const culprit = new Set(offered.culpritModes || []);
  mode.replaceChildren(
    ...offered.modes.map(([value, text]) => {
      const node = option(value, text);
      node.dataset.culprit = String(culprit.has(value));
      return node;
    }),
  );
  times.value = String(chosen.times);
  mode.value = chosen.mode;
  depth.max = String(offered.maxDepth);
  depth.value = String(chosen.depth);
}

// Whether the mode selected in `mode` (a filled <select>) runs the culprit search.
export function isCulpritMode(mode) {
  return mode.selectedOptions[0]?.dataset.culprit === "true";
}
