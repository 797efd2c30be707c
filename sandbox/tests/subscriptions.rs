//! The Taskcluster origin's GraphQL subscription endpoint over a real
//! WebSocket: the graphql-ws protocol (ack, keep-alive, data, error,
//! complete, connection_error), one `data` per queue message of the
//! subscribed task group with the task's status, and the admin switches
//! (drop every socket, an unknown task, a malformed message).

mod common;

use std::time::Duration;

use common::Sb;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(sb: &Sb, protocol: Option<&str>) -> Socket {
    let url = sb.tc("/subscription").replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    if let Some(p) = protocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next text frame (keep-alives skipped unless `keep_ka`), as text.
async fn next_text(socket: &mut Socket, keep_ka: bool) -> Option<String> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")?;
        match frame {
            Ok(Message::Text(text)) => {
                if !keep_ka && text.as_str() == r#"{"type":"ka"}"# {
                    continue;
                }
                return Some(text.to_string());
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

async fn next_json(socket: &mut Socket) -> Value {
    let text = next_text(socket, false).await.expect("the socket is open");
    serde_json::from_str(&text).unwrap_or_else(|_| json!({"unparsed": text}))
}

fn start(id: &str, group: &str) -> Value {
    json!({"type": "start", "id": id, "payload": {
        "query": "subscription G($taskGroupId: ID!, $subscriptions: [TaskSubscriptions]!) { tasksSubscriptions(taskGroupId: $taskGroupId, subscriptions: $subscriptions) { taskId taskGroupId state runs { runId state } } }",
        "variables": {"taskGroupId": group, "subscriptions": ["tasksDefined", "tasksPending", "tasksRunning", "tasksCompleted", "tasksFailed", "tasksException"]},
    }})
}

async fn initialised(sb: &Sb) -> Socket {
    let mut socket = connect(sb, Some("graphql-ws")).await;
    send(
        &mut socket,
        json!({"type": "connection_init", "payload": {}}),
    )
    .await;
    assert_eq!(
        next_text(&mut socket, true).await.as_deref(),
        Some(r#"{"type":"connection_ack"}"#)
    );
    assert_eq!(
        next_text(&mut socket, true).await.as_deref(),
        Some(r#"{"type":"ka"}"#)
    );
    socket
}

/// A pending Taskcluster job's (task id, task group id).
async fn pending_task(sb: &Sb) -> (String, String) {
    let jobs = sb.jobs("").await;
    let job = jobs
        .iter()
        .find(|j| j["state"] == "pending" && j["taskcluster"].is_object())
        .expect("a pending Taskcluster job");
    (
        job["taskcluster"]["task_id"].as_str().unwrap().to_string(),
        job["taskcluster"]["task_group_id"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

async fn stats(sb: &Sb) -> Value {
    sb.get(&sb.th("/__sandbox/subscriptions")).await
}

#[tokio::test]
async fn a_subscribed_task_group_hears_every_state_change_of_its_tasks() {
    let sb = Sb::start().await;
    let (task, group) = pending_task(&sb).await;
    let mut socket = initialised(&sb).await;
    send(&mut socket, start("1", &group)).await;
    // The operation is registered before the clock moves.
    for _ in 0..50 {
        if stats(&sb).await["task_groups"][&group] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sb.advance(4 * 3600).await;
    let mut seen = Vec::new();
    loop {
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "data", "{message}");
        assert_eq!(message["id"], "1");
        let status = &message["payload"]["data"]["tasksSubscriptions"];
        assert_eq!(
            status["taskGroupId"],
            group.as_str(),
            "only the subscribed group"
        );
        let runs = status["runs"].as_array().unwrap();
        for run in runs {
            assert!(run["runId"].is_u64());
            assert!(["PENDING", "RUNNING", "COMPLETED", "FAILED", "EXCEPTION"]
                .contains(&run["state"].as_str().unwrap()));
        }
        if status["taskId"] == task.as_str() {
            let state = status["state"].as_str().unwrap().to_string();
            seen.push(state.clone());
            if ["COMPLETED", "FAILED", "EXCEPTION"].contains(&state.as_str()) {
                break;
            }
        }
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("RUNNING"),
        "{seen:?}"
    );
    // The queue and the subscription agree on how the task ended.
    let queue = sb
        .get(&sb.tc(&format!("/api/queue/v1/task/{task}/status")))
        .await;
    assert_eq!(
        queue["status"]["state"].as_str().unwrap().to_uppercase(),
        seen.last().unwrap().as_str()
    );
    // stop → complete (after what was already on its way).
    send(&mut socket, json!({"type": "stop", "id": "1"})).await;
    loop {
        let message = next_json(&mut socket).await;
        if message["type"] == "data" {
            continue;
        }
        assert_eq!(message, json!({"type": "complete", "id": "1"}));
        break;
    }
    assert!(stats(&sb).await["data"].as_u64().unwrap() >= seen.len() as u64);
    sb.stop();
}

#[tokio::test]
async fn bad_operations_and_frames_get_the_protocols_errors_and_the_socket_stays() {
    let sb = Sb::start().await;
    let (_, group) = pending_task(&sb).await;
    let mut socket = initialised(&sb).await;
    // A start without its variables: an error for that operation.
    send(
        &mut socket,
        json!({"type": "start", "id": "9", "payload": {"query": "subscription { tasksSubscriptions(taskGroupId: \"x\", subscriptions: [tasksFailed]) { taskId } }"}}),
    )
    .await;
    let error = next_json(&mut socket).await;
    assert_eq!(
        (error["type"].as_str(), error["id"].as_str()),
        (Some("error"), Some("9"))
    );
    assert!(error["payload"]["message"]
        .as_str()
        .unwrap()
        .contains("taskGroupId"));
    // A frame that is not JSON: connection_error, the socket stays.
    socket.send(Message::Text("}{".into())).await.unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "connection_error");
    // It still serves: an unknown task and a malformed message on request.
    send(&mut socket, start("2", &group)).await;
    for _ in 0..50 {
        if stats(&sb).await["task_groups"][&group] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let injected = sb
        .post(
            &sb.th("/__sandbox/subscriptions/inject"),
            json!({"taskGroupId": group, "message": "unknown-task"}),
        )
        .await;
    assert_eq!(injected["operations"], 1);
    let unknown = next_json(&mut socket).await;
    let status = &unknown["payload"]["data"]["tasksSubscriptions"];
    assert_eq!(status["taskGroupId"], group.as_str());
    let jobs = sb.jobs("").await;
    assert!(
        !jobs
            .iter()
            .any(|j| j["taskcluster"]["task_id"] == status["taskId"]),
        "the task is unknown to the sandbox"
    );
    sb.post(
        &sb.th("/__sandbox/subscriptions/inject"),
        json!({"taskGroupId": group, "message": "malformed"}),
    )
    .await;
    let garbled = next_text(&mut socket, false).await.unwrap();
    assert!(serde_json::from_str::<Value>(&garbled).is_err());
    let no_task = next_json(&mut socket).await;
    assert!(no_task["payload"]["data"]["tasksSubscriptions"]["taskId"].is_null());
    sb.stop();
}

#[tokio::test]
async fn the_drop_switch_closes_every_socket_and_the_protocol_is_required() {
    let sb = Sb::start().await;
    let mut a = initialised(&sb).await;
    let mut b = initialised(&sb).await;
    assert_eq!(stats(&sb).await["open"], 2);
    let dropped = sb
        .post(&sb.th("/__sandbox/subscriptions/drop"), json!({}))
        .await;
    assert_eq!(dropped["dropping"], 2);
    assert_eq!(next_text(&mut a, false).await, None);
    assert_eq!(next_text(&mut b, false).await, None);
    for _ in 0..50 {
        if stats(&sb).await["open"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = stats(&sb).await;
    assert_eq!(
        (after["open"].as_u64(), after["dropped"].as_u64()),
        (Some(0), Some(2))
    );
    // A new socket is served as before.
    let _c = initialised(&sb).await;
    // Taken down, the endpoint refuses upgrades with 503; brought back, it serves.
    sb.post(
        &sb.th("/__sandbox/subscriptions/refuse"),
        json!({"refuse": true}),
    )
    .await;
    let url = sb.tc("/subscription").replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-ws".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected a 503, got {:?}", other.map(|_| ())),
    }
    sb.post(
        &sb.th("/__sandbox/subscriptions/refuse"),
        json!({"refuse": false}),
    )
    .await;
    let _d = initialised(&sb).await;
    // Without the graphql-ws sub-protocol the server closes with 1002.
    let mut plain = connect(&sb, None).await;
    let frame = tokio::time::timeout(Duration::from_secs(5), plain.next())
        .await
        .unwrap();
    match frame {
        Some(Ok(Message::Close(Some(close)))) => assert_eq!(u16::from(close.code), 1002),
        other => panic!("expected a close frame, got {other:?}"),
    }
    sb.stop();
}
