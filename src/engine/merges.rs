//! Following a merge push into the repository its changesets came from: the
//! merge's changesets are read from its own repository's pushlog (Treeherder
//! lists at most 20 of a push's changesets), each is looked up in the source
//! repository's pushlog (concurrently), `plan::merges` works out the range,
//! and the source pushes are listed on Treeherder.

use super::Session;
use crate::error::{Error, Result};
use crate::http::{send_checked, BodyKind, HttpRequest, RetryPolicy};
use crate::model::{Push, Revision};
use crate::plan::merges::{changesets_to_look_up, merged_source_range};
use crate::services::treeherder;
use crate::sources::pushlog::{
    parse_changeset_lookup, parse_json_pushes, JsonPushesQuery, PushlogRepo, PushlogVersion,
};
use futures::stream::{self, StreamExt, TryStreamExt};

impl Session {
    /// The pushes of `source_repo` that the merge push `merge_revision` of
    /// `merge_repo` brought in, newest first, as Treeherder pushes.
    pub async fn merged_pushes(
        &self,
        merge_repo: &str,
        merge_revision: &Revision,
        source_repo: &str,
    ) -> Result<Vec<Push>> {
        let repositories = treeherder::repositories(&self.ctx).await?;
        let hg_path = |name: &str| {
            repositories
                .iter()
                .find(|r| r.name == name)
                .and_then(|r| r.repo_path())
                .ok_or_else(|| Error::Invalid(format!("Treeherder gives no hg path for {name}")))
        };
        let merge_log = PushlogRepo::new(&self.ctx.endpoints.hg, &hg_path(merge_repo)?)?;
        let query = JsonPushesQuery::containing_changeset(&merge_revision.0)
            .with_version(PushlogVersion::V2)
            .with_full();
        let response = send_checked(
            self.ctx.http.as_ref(),
            HttpRequest::get(merge_log.json_pushes_url(&query)),
            RetryPolicy::default(),
        )
        .await?;
        let merge = parse_changeset_lookup(&response.body, merge_repo, merge_revision)?
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{merge_revision} is not in the pushlog of {merge_repo}"
                ))
            })?;
        let merge = &merge;
        let pushlog = PushlogRepo::new(&self.ctx.endpoints.hg, &hg_path(source_repo)?)?;
        let nodes = changesets_to_look_up(merge);
        let http = self.ctx.http.clone();
        let lookups: Vec<(Revision, Option<u64>)> = stream::iter(nodes.into_iter().map(|node| {
            let url = pushlog.json_pushes_url(
                &JsonPushesQuery::containing_changeset(&node.0).with_version(PushlogVersion::V2),
            );
            let http = http.clone();
            async move {
                let response =
                    send_checked(http.as_ref(), HttpRequest::get(url), RetryPolicy::default())
                        .await?;
                let found = parse_changeset_lookup(&response.body, source_repo, &node)?;
                Ok::<_, Error>((node, found.map(|p| p.id)))
            }
        }))
        .buffer_unordered(self.ctx.concurrency.max(1))
        .try_collect()
        .await?;
        let range = merged_source_range(merge, &lookups).ok_or_else(|| {
            Error::Invalid(format!(
                "none of push {}'s changesets was pushed to {source_repo}",
                merge.revision.short()
            ))
        })?;
        let query = JsonPushesQuery::id_range_inclusive(range.first_push_id, range.last_push_id)?
            .with_full();
        let response = send_checked(
            self.ctx.http.as_ref(),
            HttpRequest::get(pushlog.json_pushes_url(&query)).body_kind(BodyKind::Pushlog),
            RetryPolicy::default(),
        )
        .await?;
        let hg_pushes = parse_json_pushes(&response.body, source_repo)?.pushes;
        // Jobs hang off Treeherder's push ids, not the pushlog's: list the
        // same pushes on Treeherder (one request) and check they line up.
        let newest = hg_pushes.last().ok_or_else(|| {
            Error::Invalid(format!(
                "the pushlog of {source_repo} lists no push in the merged range"
            ))
        })?;
        let earlier = hg_pushes.len().saturating_sub(1) as u32;
        let pushes =
            treeherder::pushes_ending_at(&self.ctx, source_repo, &newest.revision, earlier).await?;
        let all_known = hg_pushes
            .iter()
            .all(|h| pushes.iter().any(|t| t.revision.matches(&h.revision)));
        if !all_known {
            return Err(Error::Invalid(format!("Treeherder's pushes of {source_repo} do not match its pushlog for the merged range")));
        }
        Ok(pushes)
    }
}
