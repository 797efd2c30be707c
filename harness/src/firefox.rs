//! geckodriver + Firefox ESR under WebDriver, with the unpacked add-on
//! installed as a temporary add-on.
//!
//! Firefox's console (pages, content scripts and the add-on's background) is
//! routed to stdout by preferences and captured with geckodriver's output in
//! a log file, so a failing test can show what the browser said.

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Run without a window (the default where there is no display).
    pub headless: bool,
    /// Window size, which is also the screenshot size.
    pub width: u32,
    pub height: u32,
    /// Run in this profile directory (kept between launches) instead of a
    /// fresh temporary one: what a browser restart looks like.
    pub profile: Option<PathBuf>,
    /// Firefox preferences set on top of the harness's own (name, value).
    pub prefs: Vec<(String, Value)>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        let no_display =
            std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none();
        let headed = std::env::var("MOZCI_HEADED").is_ok_and(|v| v == "1");
        BrowserOptions {
            headless: no_display || !headed,
            width: 1400,
            height: 900,
            profile: None,
            prefs: Vec::new(),
        }
    }
}

/// The Firefox binary: `$MOZCI_FIREFOX`, else `firefox-esr` or `firefox` on PATH.
pub fn firefox_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("MOZCI_FIREFOX") {
        return Ok(PathBuf::from(p));
    }
    for name in ["firefox-esr", "firefox"] {
        if let Some(p) = which(name) {
            return Ok(p);
        }
    }
    bail!("Firefox is not installed: run scripts/setup (installs firefox-esr)")
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A running geckodriver, killed when dropped.
struct Geckodriver {
    child: Child,
    port: u16,
    log_path: PathBuf,
}

impl Geckodriver {
    async fn start(log_path: &Path) -> Result<Geckodriver> {
        let bin =
            which("geckodriver").context("geckodriver is not installed: run scripts/setup")?;
        let port = crate::ports::free_port()?;
        let log = std::fs::File::create(log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(bin)
            .args([
                "--port",
                &port.to_string(),
                "--host",
                "127.0.0.1",
                "--log",
                "info",
            ])
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .context("starting geckodriver")?;
        let driver = Geckodriver {
            child,
            port,
            log_path: log_path.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!(
                    "geckodriver did not listen on port {port} within 20 s; its log: {}",
                    driver.log_path.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(driver)
    }
}

/// geckodriver's extension commands for add-ons: `POST
/// session/{id}/moz/addon/{action}` with a JSON body (`install` takes a
/// path and `temporary`, `uninstall` an add-on id).
#[derive(Debug)]
struct AddonCommand {
    action: &'static str,
    body: serde_json::Value,
}

impl WebDriverCompatibleCommand for AddonCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        mozci::url_text::join_url(
            base_url,
            &format!(
                "session/{}/moz/addon/{}",
                session_id.unwrap_or_default(),
                self.action
            ),
        )
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// A WebDriver session on Firefox with its geckodriver.
pub struct Browser {
    pub client: Client,
    driver: Geckodriver,
    /// Where screenshots and the console log go.
    pub artifacts_dir: PathBuf,
}

impl Browser {
    /// Start geckodriver and Firefox. `artifacts_dir` receives the
    /// geckodriver/console log now, and screenshots on demand.
    pub async fn launch(options: &BrowserOptions, artifacts_dir: &Path) -> Result<Browser> {
        std::fs::create_dir_all(artifacts_dir)
            .with_context(|| format!("creating {}", artifacts_dir.display()))?;
        let driver = Geckodriver::start(&artifacts_dir.join("browser-console.log")).await?;
        let mut args = vec![
            format!("--width={}", options.width),
            format!("--height={}", options.height),
        ];
        if options.headless {
            args.push("-headless".to_string());
        }
        if let Some(profile) = &options.profile {
            args.push("-profile".to_string());
            args.push(profile.to_string_lossy().into_owned());
        }
        let caps = json!({
            "moz:firefoxOptions": {
                "binary": firefox_binary()?.to_string_lossy(),
                "args": args,
                "prefs": {
                    // Console messages of pages, content scripts and the add-on go to stdout → our log.
                    "devtools.console.stdout.content": true,
                    "devtools.console.stdout.chrome": true,
                    // No network beyond 127.0.0.1 here: keep Firefox from trying.
                    "app.update.disabledForTesting": true,
                    "browser.shell.checkDefaultBrowser": false,
                    "datareporting.policy.dataSubmissionEnabled": false,
                    "extensions.update.enabled": false,
                    "network.captive-portal-service.enabled": false,
                    "network.connectivity-service.enabled": false,
                    "browser.safebrowsing.update.enabled": false,
                    "browser.newtabpage.enabled": false,
                    // Notifications and the add-on's popups must work in tests.
                    "dom.webnotifications.enabled": true,
                    // Unsigned add-ons installed in a profile (see `install_in_profile`)
                    // load at startup: Firefox ESR honours this preference.
                    "xpinstall.signatures.required": false,
                    "extensions.autoDisableScopes": 0,
                    // A fixed moz-extension:// host, so tests can open the options page.
                    "extensions.webextensions.uuids": json!({ crate::ADDON_ID: crate::ADDON_UUID }).to_string(),
                },
            }
        });
        let Value::Object(mut caps) = caps else {
            bail!("capabilities are an object")
        };
        if let Some(Value::Object(prefs)) = caps
            .get_mut("moz:firefoxOptions")
            .and_then(|o| o.get_mut("prefs"))
        {
            prefs.extend(options.prefs.iter().cloned());
        }
        // geckodriver speaks plain HTTP on loopback: no TLS stack needed.
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let client = builder
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .with_context(|| {
                format!(
                    "starting Firefox through geckodriver (log: {})",
                    driver.log_path.display()
                )
            })?;
        Ok(Browser {
            client,
            driver,
            artifacts_dir: artifacts_dir.to_path_buf(),
        })
    }

    /// Install the unpacked add-on at `dir` into `profile` for good (an
    /// extension proxy file naming the directory), so that it loads at
    /// every start of a browser on that profile, as after a real install.
    pub fn install_in_profile(profile: &Path, dir: &Path) -> Result<()> {
        let dir = dir
            .canonicalize()
            .with_context(|| format!("add-on directory {}", dir.display()))?;
        let extensions = profile.join("extensions");
        std::fs::create_dir_all(&extensions)
            .with_context(|| format!("creating {}", extensions.display()))?;
        let proxy = extensions.join(crate::ADDON_ID);
        std::fs::write(&proxy, dir.to_string_lossy().as_bytes())
            .with_context(|| format!("writing {}", proxy.display()))
    }

    /// Install an unpacked add-on directory (the repository root) as a temporary add-on; returns its id.
    pub async fn install_addon(&self, dir: &Path) -> Result<String> {
        let dir = dir
            .canonicalize()
            .with_context(|| format!("add-on directory {}", dir.display()))?;
        let answer = self
            .client
            .issue_cmd(AddonCommand {
                action: "install",
                body: json!({ "path": dir.to_string_lossy(), "temporary": true }),
            })
            .await
            .map_err(|e| anyhow!("installing the add-on from {}: {e}", dir.display()))?;
        answer
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("geckodriver answered the add-on install with {answer}"))
    }

    /// Uninstall the add-on `id` (its storage goes with it).
    pub async fn uninstall_addon(&self, id: &str) -> Result<()> {
        self.client
            .issue_cmd(AddonCommand {
                action: "uninstall",
                body: json!({ "id": id }),
            })
            .await
            .map_err(|e| anyhow!("uninstalling the add-on {id}: {e}"))?;
        Ok(())
    }

    /// The add-on opens its options page when it is installed: enable the
    /// given local sandboxes there, as a developer does (their start-up
    /// lines pasted, "use" ticked, saved; a development build only), then
    /// close that tab and come back to the first one. The add-on uses no
    /// sandbox it was not told about, so tests against one need this.
    pub async fn configure_after_install(
        &self,
        sandboxes: &[crate::sandbox::SandboxOrigins],
    ) -> Result<()> {
        let home = self.client.window().await?;
        let options = self.fill_options_after_install(sandboxes).await?;
        match options {
            Some(_) => {
                self.client.close_window().await?;
                self.client.switch_to_window(home).await?;
            }
            None => self.goto("about:blank").await?,
        }
        Ok(())
    }

    /// As [`Browser::configure_after_install`], but stay on the options
    /// page (an extension page, where scripts can reach the add-on's
    /// background). Returns its tab when the add-on opened a new one
    /// (`None`: it took the current tab).
    pub async fn fill_options_after_install(
        &self,
        sandboxes: &[crate::sandbox::SandboxOrigins],
    ) -> Result<Option<crate::WindowHandle>> {
        let home = self.client.window().await?;
        // Its host is the harness's fixed one (`ADDON_UUID`) at the first
        // install only: Firefox forgets it when the add-on is uninstalled.
        let is_options = |url: &str| {
            url.starts_with("moz-extension://") && url.ends_with("/extension/options.html")
        };
        // Firefox opens it in a new tab, or in the first one while that is
        // still blank.
        let deadline = Instant::now() + Duration::from_secs(30);
        let options = loop {
            if is_options(self.client.current_url().await?.as_str()) {
                break None;
            }
            let now = self.client.windows().await?;
            if let Some(h) = now.into_iter().find(|h| *h != home) {
                break Some(h);
            }
            if Instant::now() > deadline {
                bail!("the add-on did not open its options page on install within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        if let Some(tab) = &options {
            self.client.switch_to_window(tab.clone()).await?;
        }
        self.wait_for_js(
            "location.protocol === 'moz-extension:' && location.pathname === '/extension/options.html' && document.body?.dataset.ready === 'true'",
            Duration::from_secs(30),
        )
        .await
        .context("the page the add-on opened on install is not its filled-in options page")?;
        if !sandboxes.is_empty() {
            let variant = self.js("return document.body.dataset.variant;").await?;
            if variant != "development" {
                bail!("the installed add-on is the {variant} build: only a development build uses a local sandbox");
            }
            let lines: Vec<String> = sandboxes
                .iter()
                .map(|o| {
                    json!({"treeherder": o.treeherder, "hg": o.hg, "buildapi": o.buildapi, "taskcluster": o.taskcluster})
                        .to_string()
                })
                .collect();
            self.js(&format!(
                "const box = document.getElementById('sandbox-enabled'); if (!box.checked) box.click();
                 document.getElementById('sandbox-line').value = {};
                 return true;",
                serde_json::to_string(&lines.join("\n"))?
            ))
            .await?;
            self.click_when_ready("#save", Duration::from_secs(10))
                .await?;
            self.wait_for_js(
                "document.getElementById('status').textContent === 'Saved.'",
                Duration::from_secs(10),
            )
            .await
            .context("saving the sandbox in the add-on's options")?;
        }
        Ok(options)
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Wait until `css` matches an element, or fail after `timeout`.
    pub async fn wait_for(
        &self,
        css: &str,
        timeout: Duration,
    ) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(20))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element matched `{css}` within {timeout:?}"))
    }

    /// Click (a real, trusted WebDriver click) the first element matching
    /// `css` once it exists. A panel that re-renders between the lookup and
    /// the click leaves a stale element behind: look it up again and retry
    /// until `timeout`.
    pub async fn click_when_ready(&self, css: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let element = self.wait_for(css, left).await?;
            match element.click().await {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() < deadline => {
                    eprintln!("retrying a click on `{css}`: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("clicking `{css}`")),
            }
        }
    }

    /// Poll a JavaScript expression until it returns a truthy value; returns that value.
    pub async fn wait_for_js(&self, expression: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let script = format!("return ({expression});");
        loop {
            let value = self
                .client
                .execute(&script, vec![])
                .await
                .with_context(|| format!("evaluating `{expression}`"))?;
            let truthy = !matches!(value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return Ok(value);
            }
            if Instant::now() > deadline {
                bail!("`{expression}` was still {value} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Run a script in the page and return its value.
    pub async fn js(&self, script: &str) -> Result<Value> {
        self.client
            .execute(script, vec![])
            .await
            .with_context(|| format!("running script: {script}"))
    }

    /// Save a PNG screenshot of the viewport under the artifacts directory.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let path = self.artifacts_dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Everything the browser console and geckodriver said so far.
    pub fn console_log(&self) -> String {
        std::fs::read_to_string(&self.driver.log_path).unwrap_or_default()
    }

    pub fn console_log_path(&self) -> &Path {
        &self.driver.log_path
    }

    /// End the session (Firefox quits) and stop geckodriver.
    pub async fn close(self) -> Result<()> {
        let Browser {
            client, mut driver, ..
        } = self;
        let closed = client.close().await;
        let _ = driver.child.kill().await;
        closed.context("closing the WebDriver session")
    }
}
