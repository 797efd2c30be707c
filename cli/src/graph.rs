//! `mozci graph`: the trychooser tests-per-platform graph from allthethings.

use crate::CliError;
use mozci::engine::Session;
use mozci::http::{send_checked, HttpRequest, RetryPolicy};
use mozci::sources::allthethings::parse_allthethings;
use mozci::sources::trychooser::build_trychooser_graph;

pub async fn run(session: &Session, repo: &str) -> Result<(), CliError> {
    let response = send_checked(
        session.ctx.http.as_ref(),
        HttpRequest::get(session.ctx.endpoints.allthethings.clone()),
        RetryPolicy::default(),
    )
    .await?;
    let all = parse_allthethings(&response.body)?;
    let graph = build_trychooser_graph(&all.for_branch(repo));
    println!(
        "{}",
        serde_json::to_string_pretty(&graph).map_err(|e| CliError::failure(e.to_string()))?
    );
    Ok(())
}
