// Background event page: owns the add-on's network access and, later, all
// in-flight work. It loads the same Rust core as the content script.
import init, { coreVersion } from "../pkg/mozci.js";

const ready = init({ module_or_path: new URL("../pkg/mozci_bg.wasm", import.meta.url) });

// Messages from content scripts are data from a page-adjacent context: each
// type is checked before anything is done with it.
browser.runtime.onMessage.addListener((message, sender) => {
  if (!message || typeof message !== "object" || sender.id !== browser.runtime.id) {
    return undefined;
  }
  switch (message.type) {
    case "core-info":
      return ready.then(() => ({ version: coreVersion() }));
    default:
      return undefined;
  }
});
