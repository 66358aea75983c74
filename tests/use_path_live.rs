//! The use path end to end, per connector: a profile stored in a
//! `ProfileService` (SQLite store, secrets sealed), resolved by name, the
//! native client built with the connector's public builder, and real work
//! on the local service with it.

mod live;

use std::pin::Pin;
use std::time::{Duration, Instant};

use patchbay::{ProfileService, ResolveRequest, ResolvedProfile, Stream};
use serde_json::json;
use tokio::time::timeout;

/// Every piece of work is bounded: a hang fails the test.
const BOUND: Duration = Duration::from_secs(20);

async fn resolve(service: &ProfileService, name: &str) -> ResolvedProfile {
    let resolved = service
        .resolve(ResolveRequest::new(name, "use path live test"))
        .await
        .unwrap_or_else(|e| panic!("resolve {name}: {e}"));
    assert_eq!((resolved.name(), resolved.version()), (name, 1));
    resolved
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_produce_and_consume() {
    use patchbay_connector_kafka::rdkafka::consumer::{BaseConsumer, Consumer};
    use patchbay_connector_kafka::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use patchbay_connector_kafka::rdkafka::{Message, Offset, TopicPartitionList};
    use patchbay_connector_kafka::{client_config, KafkaConfig};

    let Some((broker, tansu)) = live::kafka() else {
        return;
    };
    let service = live::service().await;
    live::store(
        &service,
        "stream",
        "kafka",
        json!({ "bootstrap_servers": broker }),
    )
    .await;
    let config: KafkaConfig = resolve(&service, "stream").await.config().expect("typed");
    let topic = live::unique("use_path");
    live::create_topic(&tansu, &broker, &topic);
    let got = tokio::task::spawn_blocking(move || {
        let base = client_config(&config).expect("client config");
        let producer: BaseProducer = base.create().expect("producer");
        for n in 0..3 {
            let payload = format!("reading {n}");
            producer
                .send(BaseRecord::<(), _>::to(&topic).payload(&payload))
                .expect("enqueue");
        }
        producer.flush(BOUND).expect("delivered");
        let consumer: BaseConsumer = base
            .clone()
            .set("group.id", live::unique("use_path_group"))
            .create()
            .expect("consumer");
        let mut partitions = TopicPartitionList::new();
        partitions
            .add_partition_offset(&topic, 0, Offset::Beginning)
            .unwrap();
        consumer.assign(&partitions).expect("assign");
        let (mut got, until) = (Vec::new(), Instant::now() + BOUND);
        while got.len() < 3 && Instant::now() < until {
            if let Some(m) = consumer.poll(Duration::from_millis(200)) {
                let m = m.expect("fetch");
                got.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
            }
        }
        got
    })
    .await
    .expect("client task");
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
}

#[tokio::test]
async fn postgres_query() {
    use patchbay_connector_postgres::{connect_options, PostgresConfig};
    use sqlx::{Executor, Row};

    let Some(admin) = live::postgres("postgres").await else {
        return;
    };
    // A role of its own: the local server trusts loopback, so the role
    // (current_user), not the sealed password, proves whose client it is.
    let role = live::unique("pb_use");
    admin
        .execute(format!("CREATE ROLE {role} LOGIN PASSWORD 'pw-use'").as_str())
        .await
        .expect("create role");
    let service = live::service().await;
    live::store(
        &service,
        "orders-db",
        "postgres",
        json!({ "host": "127.0.0.1", "username": role, "password": "pw-use",
                "database": "test", "tls_mode": "disable" }),
    )
    .await;
    let config: PostgresConfig = resolve(&service, "orders-db")
        .await
        .config()
        .expect("typed");
    let work = async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(connect_options(&config).expect("options"))
            .await
            .expect("connect");
        let mut tx = pool.begin().await.expect("begin");
        tx.execute("CREATE TEMP TABLE readings (n int) ON COMMIT DROP")
            .await
            .expect("create");
        tx.execute("INSERT INTO readings VALUES (1), (2), (39)")
            .await
            .expect("insert");
        let row = tx
            .fetch_one(
                "SELECT sum(n)::int8, current_user::text, current_database()::text FROM readings",
            )
            .await
            .expect("select");
        tx.commit().await.expect("commit");
        pool.close().await;
        (
            row.get::<i64, _>(0),
            row.get::<String, _>(1),
            row.get::<String, _>(2),
        )
    };
    let got = timeout(BOUND, work).await;
    admin
        .execute(format!("DROP ROLE {role}").as_str())
        .await
        .expect("drop role");
    assert_eq!(got.expect("bounded"), (42, role, "test".to_owned()));
}

#[tokio::test]
async fn mysql_query() {
    use patchbay_connector_mysql::{connect_options, MySqlConfig};
    use sqlx::{Connection, Executor, Row};

    let admin = sqlx::MySqlConnection::connect("mysql://root@127.0.0.1:3306/test").await;
    let Some(mut admin) = patchbay::testkit::net::require(
        "MariaDB on 127.0.0.1:3306",
        "systemctl start mariadb (user root, empty password)",
        admin,
    ) else {
        return;
    };
    let user = live::unique("pb_use");
    admin
        .execute(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-use'").as_str())
        .await
        .expect("create user");
    let service = live::service().await;
    live::store(
        &service,
        "orders-mysql",
        "mysql",
        json!({ "host": "127.0.0.1", "port": 3306, "username": user, "password": "pw-use",
                "tls_mode": "disable" }),
    )
    .await;
    let config: MySqlConfig = resolve(&service, "orders-mysql")
        .await
        .config()
        .expect("typed");
    let work = async {
        let mut conn = sqlx::ConnectOptions::connect(&connect_options(&config).expect("options"))
            .await
            .expect("connect as the profile's user");
        let row = conn
            .fetch_one("SELECT CAST(6 * 7 AS SIGNED), CURRENT_USER()")
            .await
            .expect("select");
        conn.close().await.expect("close");
        (row.get::<i64, _>(0), row.get::<String, _>(1))
    };
    let got = timeout(BOUND, work).await;
    admin
        .execute(format!("DROP USER '{user}'@'%'").as_str())
        .await
        .expect("drop user");
    assert_eq!(got.expect("bounded"), (42, format!("{user}@%")));
}

#[tokio::test]
async fn redis_set_and_get() {
    use patchbay_connector_redis::redis::{self, AsyncCommands};
    use patchbay_connector_redis::{client, RedisConfig};

    let admin = async {
        redis::Client::open("redis://127.0.0.1:6379")?
            .get_multiplexed_async_connection()
            .await
    };
    let Some(mut admin) =
        patchbay::testkit::net::require("redis", "redis-server --daemonize yes", admin.await)
    else {
        return;
    };
    // An ACL user allowed only its own keys, with the password the profile seals.
    let (user, key) = (live::unique("pb_use"), live::unique("pb_use_key"));
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(">pw-use")
        .arg(format!("~{key}"))
        .arg("+@all")
        .query_async::<()>(&mut admin)
        .await
        .expect("ACL SETUSER");
    let service = live::service().await;
    live::store(
        &service,
        "cache",
        "redis",
        json!({ "addresses": ["127.0.0.1:6379"], "username": user, "password": "pw-use" }),
    )
    .await;
    let config: RedisConfig = resolve(&service, "cache").await.config().expect("typed");
    let work = async {
        let mut conn = client(&config)
            .expect("client")
            .get_multiplexed_async_connection()
            .await
            .expect("connect as the profile's user");
        let () = conn.set(&key, "hello").await.expect("SET");
        conn.get::<_, String>(&key).await.expect("GET")
    };
    let got = timeout(BOUND, work).await;
    let seen: Option<String> = admin.get(&key).await.expect("admin GET");
    let _: () = admin.del(&key).await.expect("DEL");
    let _: () = redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async(&mut admin)
        .await
        .expect("ACL DELUSER");
    assert_eq!(got.expect("bounded"), "hello");
    assert_eq!(seen.as_deref(), Some("hello"));
}

/// The next message of a NATS subscription.
async fn next(
    messages: &mut patchbay_connector_nats::async_nats::Subscriber,
) -> Option<patchbay_connector_nats::async_nats::Message> {
    std::future::poll_fn(|cx| Pin::new(&mut *messages).poll_next(cx)).await
}

#[tokio::test]
async fn nats_publish_and_subscribe() {
    use patchbay_connector_nats::{async_nats, connect_options, server_addrs, NatsConfig};

    let found = async_nats::connect("127.0.0.1:4222").await;
    if patchbay::testkit::net::require("nats", "nats-server -js -a 127.0.0.1 -p 4222", found)
        .is_none()
    {
        return;
    }
    let service = live::service().await;
    live::store(
        &service,
        "bus",
        "nats",
        json!({ "servers": ["nats://127.0.0.1:4222"] }),
    )
    .await;
    let config: NatsConfig = resolve(&service, "bus").await.config().expect("typed");
    let subject = live::unique("patchbay.use");
    let work = async {
        let connect = || async {
            connect_options(&config)
                .expect("options")
                .connect(server_addrs(&config).expect("servers"))
                .await
                .expect("connect")
        };
        let (subscriber, publisher) = (connect().await, connect().await);
        let mut messages = subscriber.subscribe(subject.clone()).await.expect("SUB");
        // `flush` only empties the client's buffer: the SUB is known to the
        // server once the subscriber's own message (same connection, so after
        // the SUB) comes back.
        subscriber
            .publish(subject.clone(), "ready".into())
            .await
            .expect("PUB ready");
        subscriber.flush().await.expect("flush");
        let ready = next(&mut messages).await.expect("subscription open");
        assert_eq!(&ready.payload[..], b"ready");
        for n in 0..3 {
            publisher
                .publish(subject.clone(), format!("reading {n}").into())
                .await
                .expect("PUB");
        }
        publisher.flush().await.expect("flush");
        let mut got = Vec::new();
        while got.len() < 3 {
            let m = next(&mut messages).await.expect("subscription open");
            got.push(String::from_utf8(m.payload.to_vec()).unwrap());
        }
        let _ = publisher.drain().await;
        let _ = subscriber.drain().await;
        got
    };
    let got = timeout(BOUND, work).await.expect("bounded");
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
}

#[tokio::test]
async fn mqtt_publish_and_subscribe() {
    use patchbay_connector_mqtt::rumqttc::{AsyncClient, Event, Packet, QoS};
    use patchbay_connector_mqtt::{mqtt_options, MqttConfig};

    let found = tokio::net::TcpStream::connect("127.0.0.1:1883").await;
    if patchbay::testkit::net::require("mosquitto", "systemctl start mosquitto", found).is_none() {
        return;
    }
    let service = live::service().await;
    live::store(
        &service,
        "sensors",
        "mqtt",
        json!({ "url": "mqtt://127.0.0.1:1883", "client_id_prefix": "pb-use" }),
    )
    .await;
    let config: MqttConfig = resolve(&service, "sensors").await.config().expect("typed");
    let topic = format!("patchbay/use/{}", live::unique("t"));
    let (subscriber, mut sub_events) = AsyncClient::new(mqtt_options(&config).unwrap(), 10);
    let (publisher, mut pub_events) = AsyncClient::new(mqtt_options(&config).unwrap(), 10);
    // The publisher's loop runs until its connection ends (the test's end).
    let pub_loop = tokio::spawn(async move { while pub_events.poll().await.is_ok() {} });
    let work = async {
        subscriber
            .subscribe(&topic, QoS::AtLeastOnce)
            .await
            .expect("SUBSCRIBE");
        while !matches!(
            sub_events.poll().await.expect("suback"),
            Event::Incoming(Packet::SubAck(_))
        ) {}
        for n in 0..3 {
            publisher
                .publish(&topic, QoS::AtLeastOnce, false, format!("reading {n}"))
                .await
                .expect("PUBLISH");
        }
        let mut got = Vec::new();
        while got.len() < 3 {
            if let Event::Incoming(Packet::Publish(p)) = sub_events.poll().await.expect("poll") {
                got.push(String::from_utf8(p.payload.to_vec()).unwrap());
            }
        }
        got
    };
    let got = timeout(BOUND, work).await.expect("bounded");
    pub_loop.abort();
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
}

#[tokio::test]
async fn rabbitmq_declare_publish_and_get() {
    use patchbay_connector_rabbitmq::amqprs::channel::{
        BasicGetArguments, BasicPublishArguments, QueueDeclareArguments,
    };
    use patchbay_connector_rabbitmq::amqprs::connection::Connection;
    use patchbay_connector_rabbitmq::amqprs::BasicProperties;
    use patchbay_connector_rabbitmq::{open_connection_arguments, RabbitMqConfig};

    let found = tokio::net::TcpStream::connect("127.0.0.1:5672").await;
    if patchbay::testkit::net::require("rabbitmq", "systemctl start rabbitmq-server", found)
        .is_none()
    {
        return;
    }
    let service = live::service().await;
    live::store(
        &service,
        "jobs",
        "rabbitmq",
        json!({ "host": "127.0.0.1", "username": "guest", "password": "guest" }),
    )
    .await;
    let config: RabbitMqConfig = resolve(&service, "jobs").await.config().expect("typed");
    let queue = live::unique("patchbay_use");
    let work = async {
        let args = open_connection_arguments(&config).expect("arguments");
        let conn = Connection::open(&args).await.expect("open");
        let channel = conn.open_channel(None).await.expect("channel");
        channel
            .queue_declare(QueueDeclareArguments::transient_autodelete(&queue))
            .await
            .expect("declare");
        for n in 0..3 {
            channel
                .basic_publish(
                    BasicProperties::default(),
                    format!("reading {n}").into_bytes(),
                    BasicPublishArguments::new("", &queue),
                )
                .await
                .expect("publish");
        }
        // get-empty until the broker has routed a message; bounded below.
        let mut got = Vec::new();
        while got.len() < 3 {
            let args = BasicGetArguments::new(&queue).no_ack(true).finish();
            if let Some((_, _, body)) = channel.basic_get(args).await.expect("get") {
                got.push(String::from_utf8(body).unwrap());
            }
        }
        channel.close().await.expect("close channel");
        conn.close().await.expect("close");
        got
    };
    let got = timeout(BOUND, work).await.expect("bounded");
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
}
