// web-ext reads this file from the repository root, which is also the
// add-on's root (manifest.json lives here). The add-on is manifest.json,
// extension/ and the built core in pkg/; everything else is ignored when
// linting, running and packaging.
export default {
  ignoreFiles: [
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "package.json",
    "package-lock.json",
    "web-ext-config.mjs",
    "src",
    "src/**",
    "cli",
    "cli/**",
    "sandbox",
    "sandbox/**",
    "harness",
    "harness/**",
    "tests",
    "tests/**",
    "benches",
    "benches/**",
    "fuzz",
    "fuzz/**",
    "scripts",
    "scripts/**",
    "target",
    "target/**",
    "artifacts",
    "artifacts/**",
    "docs",
    "docs/**",
  ],
  build: {
    overwriteDest: true,
  },
};
