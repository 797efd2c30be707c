//! Ranges of pushes the command line and the add-on ask for: between two
//! revisions, and around one revision.

use super::Session;
use crate::error::{Error, Result};
use crate::http::{send_checked, BodyKind, HttpRequest, RetryPolicy};
use crate::model::{Push, Revision};
use crate::services::treeherder;
use crate::sources::pushlog::{
    parse_changeset_lookup, parse_json_pushes, JsonPushesQuery, PushlogRepo, PushlogVersion,
};

impl Session {
    /// The pushes from `oldest` to `newest` (both included), newest first.
    pub async fn pushes_between(
        &self,
        repo: &str,
        oldest: &Revision,
        newest: &Revision,
    ) -> Result<Vec<Push>> {
        let (first, last) = futures::try_join!(
            treeherder::pushes_ending_at(&self.ctx, repo, oldest, 0),
            treeherder::pushes_ending_at(&self.ctx, repo, newest, 0),
        )?;
        let (Some(first), Some(last)) = (first.first(), last.first()) else {
            return Err(Error::Invalid(format!(
                "{oldest} or {newest} is not a push of {repo}"
            )));
        };
        if first.id > last.id {
            return Err(Error::Invalid(format!(
                "{} is newer than {}: give the older revision first",
                oldest.short(),
                newest.short()
            )));
        }
        treeherder::pushes_between_ids(&self.ctx, repo, first.id, last.id).await
    }

    /// The push of `revision` with `delta` pushes before and after it, newest
    /// first. Treeherder's push ids are shared by all repositories, so the
    /// neighbours are found in the repository's pushlog, where ids follow
    /// each other, then listed on Treeherder.
    pub async fn pushes_around(
        &self,
        repo: &str,
        revision: &Revision,
        delta: u32,
    ) -> Result<Vec<Push>> {
        let repository = treeherder::repository(&self.ctx, repo).await?;
        let path = repository
            .repo_path()
            .ok_or_else(|| Error::Invalid(format!("Treeherder gives no hg path for {repo}")))?;
        let pushlog = PushlogRepo::new(&self.ctx.endpoints.hg, &path)?;
        let get = |url: String| async move {
            send_checked(
                self.ctx.http.as_ref(),
                HttpRequest::get(url).body_kind(BodyKind::Pushlog),
                RetryPolicy::default(),
            )
            .await
        };
        let lookup_query =
            JsonPushesQuery::containing_changeset(&revision.0).with_version(PushlogVersion::V2);
        let lookup = get(pushlog.json_pushes_url(&lookup_query)).await?;
        let centre = parse_changeset_lookup(&lookup.body, repo, revision)?
            .ok_or_else(|| Error::Invalid(format!("{revision} is not in the pushlog of {repo}")))?;
        let first = centre.id.saturating_sub(u64::from(delta)).max(1);
        let last = centre.id.saturating_add(u64::from(delta));
        let range =
            get(pushlog.json_pushes_url(&JsonPushesQuery::id_range_inclusive(first, last)?))
                .await?;
        let hg = parse_json_pushes(&range.body, repo)?.pushes;
        let newest = hg.last().ok_or_else(|| {
            Error::Invalid(format!(
                "the pushlog of {repo} lists nothing around {}",
                revision.short()
            ))
        })?;
        let pushes = treeherder::pushes_ending_at(
            &self.ctx,
            repo,
            &newest.revision,
            hg.len().saturating_sub(1) as u32,
        )
        .await?;
        Ok(pushes
            .into_iter()
            .filter(|p| hg.iter().any(|h| h.revision.matches(&p.revision)))
            .collect())
    }
}
