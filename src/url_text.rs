//! URLs from text: every URL the core reads (a page's address, a configured
//! endpoint, a root URL, a `next` link, the address of a native request) is
//! parsed here rather than by `url::Url::parse` directly.
//!
//! Why: the core links url's ASCII-only IDNA back end (`idna_adapter`
//! 1.0.0, pinned in Cargo.toml), which keeps ICU's Unicode tables out of
//! both WebAssembly modules. It rejects a non-ASCII host, as wanted, but on
//! the way it checks with a debug assertion that a label holding a non-ASCII
//! character has no capital ASCII letter in it, so a hostile address such
//! as `https://Bücher.example` panicked debug and fuzz builds (release
//! builds rejected it cleanly; the fuzz smoke found it). Here such a host
//! is first parsed with its capitals folded to lower case, where it fails
//! with url's own "invalid international domain name" before the original
//! is ever parsed.
//! Every build then gives the same answer: a Unicode host is an error, its
//! punycode (`xn--…`) form works.

use url::{ParseError, Url};

/// Parse an absolute URL, refusing a host that is not ASCII.
// The one place allowed to call `Url::parse` (clippy.toml disallows it
// elsewhere).
#[allow(clippy::disallowed_methods)]
pub fn parse_url(text: &str) -> Result<Url, ParseError> {
    if could_name_a_unicode_host(text) {
        Url::parse(&fold_ascii_capitals(text))?;
    }
    Url::parse(text)
}

/// Resolve `relative` against `base`, refusing a host that is not ASCII
/// (`relative` may be a whole URL or start with `//host`).
#[allow(clippy::disallowed_methods)]
pub fn join_url(base: &Url, relative: &str) -> Result<Url, ParseError> {
    if could_name_a_unicode_host(relative) {
        base.join(&fold_ascii_capitals(relative))?;
    }
    base.join(relative)
}

/// Only text with a non-ASCII character or a percent escape (hosts are
/// percent-decoded before IDNA) can name a non-ASCII host; anything else
/// takes url's ASCII path, which has no such assertion.
fn could_name_a_unicode_host(text: &str) -> bool {
    !text.is_ascii() || text.contains('%')
}

/// `text` with every capital ASCII letter in lower case, spelled out or
/// percent-escaped (`%41` becomes `%61`): the same URL for url's parser up
/// to the letter case of its host, path and query, which is all that
/// parse is used to check.
fn fold_ascii_capitals(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(escape) = rest.get(1..3).filter(|_| c == '%') {
            if let Some(byte) = u8::from_str_radix(escape, 16)
                .ok()
                .filter(u8::is_ascii_uppercase)
            {
                folded.push_str(&format!("%{:02X}", byte.to_ascii_lowercase()));
                rest = &rest[3..];
                continue;
            }
        }
        folded.push(c.to_ascii_lowercase());
        rest = &rest[c.len_utf8()..];
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    // Compares with url's own parser on purpose.
    #[allow(clippy::disallowed_methods)]
    #[test]
    fn ascii_urls_parse_as_url_parses_them() {
        for text in [
            "https://Treeherder.Mozilla.org/jobs?repo=try&revision=ABC#Frag",
            "HTTP://127.0.0.1:8080//",
            "https://xn--bcher-kva.example/Path%20With%20Spaces",
        ] {
            assert_eq!(parse_url(text), Url::parse(text), "{text}");
        }
    }

    #[test]
    fn unicode_hosts_are_refused_in_every_build() {
        // url::Url::parse panics a debug build on the first five through
        // idna_adapter's assertion (a capital letter in a label with a
        // non-ASCII character, spelled out or percent-escaped; the last two
        // of them are the fuzz smoke's crashing inputs, shortened) and
        // refuses the others by itself.
        for text in [
            "https://Bücher.example",
            "http://Hé.com",
            "https://B%C3%BCcher.example",
            "HTTP://Firefox-CI-T\u{fffd}\u{fffd}oken",
            "http:H\u{fffd}~mple.com:8000/resource",
            "https://bücher.example",
            "https://bÜCHER.example/",
            "https://bücher.EXAMPLE",
            "https://b%C3%BC%43HER.example",
        ] {
            assert_eq!(
                parse_url(text),
                Err(ParseError::IdnaError),
                "{text:?} must be refused as a Unicode host"
            );
        }
        let message = parse_url("https://bÜcher.example").unwrap_err().to_string();
        assert!(message.contains("international domain name"), "{message}");
    }

    #[test]
    fn punycode_hosts_work_and_are_lower_cased() {
        let url = parse_url("https://XN--BCHER-KVA.Example/A?B=C").unwrap();
        assert_eq!(url.as_str(), "https://xn--bcher-kva.example/A?B=C");
    }

    #[test]
    fn non_ascii_outside_the_host_is_kept_and_escaped() {
        let url =
            parse_url("https://treeherder.mozilla.org/jobs?repo=try&searchStr=Über%41").unwrap();
        assert_eq!(url.host_str(), Some("treeherder.mozilla.org"));
        assert_eq!(url.query(), Some("repo=try&searchStr=%C3%9Cber%41"));
        assert_eq!(
            parse_url("https://hg.example/Pfad/ä").unwrap().path(),
            "/Pfad/%C3%A4"
        );
    }

    #[test]
    fn joins_refuse_unicode_hosts_and_keep_the_rest() {
        let base = parse_url("https://treeherder.example/api/").unwrap();
        assert_eq!(
            join_url(&base, "//bÜCHER.example/x"),
            Err(ParseError::IdnaError)
        );
        assert_eq!(
            join_url(&base, "https://bücher.EXAMPLE/"),
            Err(ParseError::IdnaError)
        );
        assert_eq!(
            join_url(&base, "jobs/?Page=2&Name=Ä").unwrap().as_str(),
            "https://treeherder.example/api/jobs/?Page=2&Name=%C3%84"
        );
    }

    #[test]
    fn folding_lowers_capitals_and_capital_escapes_only() {
        assert_eq!(fold_ascii_capitals("AbÜ%41%5a%61%4g%"), "abÜ%61%7A%61%4g%");
        assert_eq!(fold_ascii_capitals("%C3%9C"), "%c3%9c");
    }
}
