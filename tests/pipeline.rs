//! `examples/pipeline`: Kafka (tansu) → Postgres through profiles resolved
//! by name. The Postgres profile moves to another database mid-run; every
//! message lands once, and in the database of the profile version that was
//! current when it arrived.

mod live;
#[path = "../examples/pipeline/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;

use std::time::Duration;

use patchbay::{ProfileService, ProfileUpdate, ResolveRequest};
use patchbay_connector_kafka::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use patchbay_connector_kafka::{client_config, KafkaConfig};
use pipeline::{Options, Progress};
use serde_json::json;
use sqlx::{PgPool, Row};
use tokio::time::timeout;

const MESSAGES: usize = 40;
/// Every wait is bounded: a hang fails the test.
const BOUND: Duration = Duration::from_secs(60);

/// Produces `range` as "message {i}", through the stored Kafka profile.
async fn produce(service: &ProfileService, topic: &str, range: std::ops::Range<usize>) {
    let resolved = service
        .resolve(ResolveRequest::new("events", "pipeline test: produce"))
        .await
        .expect("resolve events");
    let config: KafkaConfig = resolved.config().expect("kafka config");
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let producer: BaseProducer = client_config(&config).unwrap().create().expect("producer");
        for i in range {
            let payload = format!("message {i}");
            producer
                .send(BaseRecord::<(), _>::to(&topic).payload(&payload))
                .expect("enqueue");
        }
        producer.flush(Duration::from_secs(20)).expect("delivered");
    })
    .await
    .expect("producer task");
}

/// (offset, payload, profile_version) of every row, by offset.
async fn rows(pool: &PgPool, table: &str) -> Vec<(i64, String, i64)> {
    sqlx::query(&format!(
        "SELECT \"offset\", payload, profile_version FROM {table} ORDER BY \"offset\""
    ))
    .fetch_all(pool)
    .await
    .expect("read rows")
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// Drops the table in both databases, also when the test fails.
struct DropTable(String);

impl Drop for DropTable {
    fn drop(&mut self) {
        let table = self.0.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                for db in ["test", "postgres"] {
                    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
                    if let Ok(pool) = PgPool::connect(&url).await {
                        let _ = sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                            .execute(&pool)
                            .await;
                        pool.close().await;
                    }
                }
            })
        });
        let _ = done.join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_land_once_in_the_database_of_the_current_profile() {
    let Some((broker, tansu)) = live::kafka() else {
        return;
    };
    let (Some(db_a), Some(db_b)) = (
        live::postgres("test").await,
        live::postgres("postgres").await,
    ) else {
        return;
    };
    let topic = live::unique("pipeline");
    live::create_topic(&tansu, &broker, &topic);
    let table = live::unique("pipeline_rows");
    let _drop = DropTable(table.clone());

    let service = live::service().await;
    live::store(
        &service,
        "events",
        "kafka",
        json!({ "bootstrap_servers": broker }),
    )
    .await;
    let warehouse = live::store(
        &service,
        "warehouse",
        "postgres",
        json!({
            "host": "127.0.0.1", "port": 5432, "username": "postgres",
            "password": "unused-with-trust", "database": "test", "tls_mode": "disable",
        }),
    )
    .await;

    let half = MESSAGES / 2;
    produce(&service, &topic, 0..half).await;
    let options = Options {
        kafka_profile: "events".into(),
        postgres_profile: "warehouse".into(),
        topic: topic.clone(),
        table: table.clone(),
        messages: MESSAGES,
    };
    let (tx, mut progress) = tokio::sync::mpsc::unbounded_channel();
    let run = {
        let (service, options) = (service.clone(), options.clone());
        tokio::spawn(async move { pipeline::run(&service, &options, Some(tx)).await })
    };

    // The first half is stored through the client of version 1...
    let mut stored = 0;
    while stored < half {
        match timeout(BOUND, progress.recv()).await.expect("progress") {
            Some(Progress::Stored { version, .. }) => {
                assert_eq!(version, 1);
                stored += 1;
            }
            Some(Progress::Connected { .. }) => {}
            None => panic!("pipeline ended early: {:?}", run.await),
        }
    }
    // ...then the profile moves to another database. The update's event
    // is published before `update` returns, so before any later message.
    service
        .update(
            &warehouse.id,
            ProfileUpdate {
                config: Some(json!({ "database": "postgres" })),
                ..Default::default()
            },
        )
        .await
        .expect("update the postgres profile");
    produce(&service, &topic, half..MESSAGES).await;

    let report = timeout(BOUND, run)
        .await
        .expect("the pipeline finishes")
        .expect("pipeline task")
        .expect("pipeline run");
    assert_eq!((report.stored, report.duplicates), (MESSAGES, 0));
    assert_eq!(
        report.postgres_versions,
        [1, 2],
        "one rebuild, on the update"
    );
    assert_eq!(report.kafka_versions, [1]);

    let expect = |range: std::ops::Range<usize>, version: i64| -> Vec<(i64, String, i64)> {
        range
            .map(|i| (i as i64, format!("message {i}"), version))
            .collect()
    };
    assert_eq!(
        rows(&db_a, &table).await,
        expect(0..half, 1),
        "database test"
    );
    assert_eq!(
        rows(&db_b, &table).await,
        expect(half..MESSAGES, 2),
        "database postgres"
    );
    db_a.close().await;
    db_b.close().await;
}
