//! Profiles from connection URIs, for every scheme: passwords with reserved
//! and unicode characters survive, the rendered URI carries no secret and
//! reads back to the same config, malformed URIs name the part and never
//! echo the password.

use std::sync::Arc;

use patchbay::connectors::{kafka, mqtt, mysql, nats, postgres, rabbitmq, redis};
use patchbay::memory::MemoryStore;
use patchbay::secrecy::ExposeSecret;
use patchbay::uri::encode_component;
use patchbay::{Connector, Error, ProfileService, ResolveRequest};
use serde_json::{json, Value};

/// Reserved characters, a space, a `+`, a `%` and unicode.
const PASSWORD: &str = "p@ss:w/o?r#d%25+ é✓";

fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![
        Arc::new(kafka::KafkaConnector),
        Arc::new(postgres::PostgresConnector),
        Arc::new(mysql::MySqlConnector),
        Arc::new(redis::RedisConnector),
        Arc::new(nats::NatsConnector),
        Arc::new(mqtt::MqttConnector),
        Arc::new(rabbitmq::RabbitMqConnector),
    ]
}

fn service() -> ProfileService {
    let mut b = ProfileService::builder(Arc::new(MemoryStore::new()));
    for c in connectors() {
        b = b.connector_arc(c);
    }
    b.build().expect("service")
}

/// (URI with `{pw}` for the encoded password, kind, secret field, expected public config).
fn cases() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "postgresql://app:{pw}@db.example:5433/orders?sslmode=verify-full&connect_timeout=5",
            "postgres",
            "password",
            json!({"host": "db.example", "port": 5433, "database": "orders", "username": "app", "tls_mode": "verify-full", "connect_timeout_ms": 5000}),
        ),
        (
            "postgres://app:{pw}@[::1]/orders",
            "postgres",
            "password",
            json!({"host": "::1", "database": "orders", "username": "app"}),
        ),
        (
            "mariadb://root:{pw}@127.0.0.1:3307/test?ssl-mode=required",
            "mysql",
            "password",
            json!({"host": "127.0.0.1", "port": 3307, "database": "test", "username": "root", "tls_mode": "require"}),
        ),
        (
            "rediss://alice:{pw}@cache.example:6380/3",
            "redis",
            "password",
            json!({"addresses": ["cache.example:6380"], "mode": "standalone", "database": 3, "username": "alice", "tls": {"enabled": true}}),
        ),
        (
            "redis://:{pw}@a:7000,b:7001",
            "redis",
            "password",
            json!({"addresses": ["a:7000", "b:7001"], "mode": "cluster"}),
        ),
        (
            "amqps://app:{pw}@mq.example/orders%2Feu?server_name=mq.internal",
            "rabbitmq",
            "password",
            json!({"host": "mq.example", "virtual_host": "orders/eu", "username": "app", "tls": {"enabled": true, "server_name": "mq.internal"}}),
        ),
        (
            "amqp://guest:{pw}@127.0.0.1:5673",
            "rabbitmq",
            "password",
            json!({"host": "127.0.0.1", "port": 5673, "virtual_host": "/", "username": "guest"}),
        ),
        (
            "tls://bob:{pw}@n1:4222,n2:4223",
            "nats",
            "password",
            json!({"servers": ["n1:4222", "n2:4223"], "username": "bob", "tls": {"enabled": true}}),
        ),
        (
            "nats://{pw}@n1",
            "nats",
            "token",
            json!({"servers": ["n1:4222"]}),
        ),
        (
            "mqtts://dev:{pw}@broker.example:8884",
            "mqtt",
            "password",
            json!({"url": "mqtts://broker.example:8884", "username": "dev"}),
        ),
        (
            "kafka://svc:{pw}@k1:9092,k2?security_protocol=SASL_SSL&sasl_mechanism=SCRAM-SHA-512",
            "kafka",
            "sasl_password",
            json!({"bootstrap_servers": "k1:9092,k2:9092", "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "svc"}),
        ),
    ]
}

#[tokio::test]
async fn every_scheme_round_trips_with_a_hostile_password() {
    let svc = service();
    for (i, (template, kind, secret, expected)) in cases().into_iter().enumerate() {
        let uri = template.replace("{pw}", &encode_component(PASSWORD));
        let name = format!("uri-{i}");
        let p = svc
            .create_from_uri(&name, &uri, None, Default::default())
            .await
            .unwrap_or_else(|e| panic!("{template}: {e}"));
        assert_eq!(p.connector, kind, "{template}");
        let public = Value::Object(p.config.clone());
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(public.get(k), Some(v), "{template}: field {k} in {public}");
        }
        // The password became a sealed secret that opens to the original.
        assert_eq!(p.secret_fields(), vec![secret.to_owned()], "{template}");
        let resolved = svc
            .resolve(ResolveRequest::new(name.as_str(), "uri test"))
            .await
            .expect("resolve");
        assert_eq!(
            resolved.secret(secret).unwrap().expose_secret(),
            PASSWORD,
            "{template}"
        );
        // Rendered without the secret, and read back to the same config.
        let rendered = svc.uri_of(&p).unwrap().expect("uri form");
        assert!(
            !rendered.contains(&encode_component(PASSWORD)),
            "{rendered}"
        );
        assert!(
            !rendered.contains("p%40ss") && !rendered.contains("ss:w"),
            "{rendered}"
        );
        // Read back by the connector alone: a URI without its password need
        // not validate (a Redis user needs a password), but it names the
        // same config.
        let connector = connectors().into_iter().find(|c| c.kind() == kind).unwrap();
        let parsed = patchbay::ConnectionUri::parse(&rendered).expect("rendered URI parses");
        let again = connector
            .config_from_uri(&parsed)
            .unwrap_or_else(|e| panic!("{rendered}: {e:?}"));
        let again_public: serde_json::Map<String, Value> = again
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !p.secret_fields().contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(again_public, p.config, "{template} -> {rendered}");
    }
}

fn uri_errors(e: Error) -> Vec<(String, String)> {
    match e {
        Error::Validation(v) => v.0.into_iter().map(|f| (f.path, f.message)).collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[tokio::test]
async fn malformed_uris_name_the_part_and_never_echo_the_password() {
    let svc = service();
    for (uri, part) in [
        ("postgres://app:hunter2@db:0/x", "port"),
        ("postgres://app:hunter2@db:70000/x", "port"),
        ("postgres://:hunter2@db/x", "user"),
        ("postgres://app:hunter2@a,b/x", "one host"),
        ("postgres://app:hunter2@db/x?sslmode=sometimes", "sslmode"),
        (
            "postgres://app:hunter2@db/x?sslmod=require",
            "unknown query parameter `sslmod`",
        ),
        ("postgres://app:hunter2@db/x#frag", "fragment"),
        ("postgres://app:hunter2@db%zz/x", "host 1"),
        ("mysql://app:hunter2@db/x?ssl-mode=MAYBE", "ssl-mode"),
        ("redis://:hunter2@cache/notanumber", "database number"),
        (
            "kafka://u:hunter2@k1?security_protocol=TLS",
            "security_protocol",
        ),
        ("mqtt://u:hunter2@broker/path", "no path"),
        ("ftp://u:hunter2@host", "no connector reads `ftp://`"),
        ("u:hunter2@host", "scheme://"),
    ] {
        let errors = uri_errors(
            svc.create_from_uri("bad", uri, None, Default::default())
                .await
                .unwrap_err(),
        );
        assert!(!errors.is_empty(), "{uri}");
        for (path, message) in &errors {
            assert_eq!(path, "/uri", "{uri}: {message}");
            assert!(!message.contains("hunter2"), "{uri}: {message}");
        }
        assert!(
            errors.iter().any(|(_, m)| m.contains(part)),
            "{uri}: expected `{part}` in {errors:?}"
        );
    }
    assert!(
        svc.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing stored"
    );
}
