// The backfill choices the popup and the options page offer, and the
// defaults the background falls back to: one list for all three.

export const MODES = [
  ["to_last_good", "backfill to the last good push"],
  ["fixed_range", "fixed range (Taskcluster backfill action)"],
  ["trigger_here", "trigger N on this push"],
  ["find_culprit", "find the culprit (flake-aware search)"],
];

// "auto": the times count follows from the job's failure rate (the core
// works it out from the runs it reads, and the plan then asks to confirm).
export const DEFAULT_CHOICE = { times: "auto", depth: 20, mode: "to_last_good" };
export const MAX_TIMES = 10;
export const MAX_DEPTH = 50;

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

// Fill the times and mode <select>s and show `choice` (stored or default).
export function fillChoices(times, mode, choice) {
  times.replaceChildren(option("auto", "auto (from the job's failure rate)"));
  for (let n = 1; n <= MAX_TIMES; n += 1) {
    times.appendChild(option(String(n), String(n)));
  }
  mode.replaceChildren(...MODES.map(([value, text]) => option(value, text)));
  const chosen = { ...DEFAULT_CHOICE, ...(choice || {}) };
  times.value = String(chosen.times);
  mode.value = chosen.mode;
  return chosen;
}
