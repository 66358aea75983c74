//! Checking a profile once and storing it without a second validation
//! (`check` + `create_checked`), the rules that keep that safe, and the
//! progress a reseal reports.

mod common;

use std::sync::{Arc, Mutex};

use common::{new_profile, ok_config, service};
use patchbay::memory::MemoryStore;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{Error, Key, Keyring, ProfileService, MANAGED_BY_LABEL};

#[tokio::test]
async fn a_checked_profile_is_stored_as_create_would() {
    let (svc, _) = service();
    let checked = svc
        .check(new_profile("once", ok_config("pw")))
        .expect("valid");
    let p = svc.create_checked(checked).await.unwrap();
    assert_eq!(p.version, 1);
    assert!(p.secrets.0.contains_key("password"));
    assert!(!p.config.contains_key("password"));
    let again = svc.check(new_profile("once", ok_config("pw"))).unwrap();
    assert!(matches!(
        svc.create_checked(again).await,
        Err(Error::AlreadyExists { .. })
    ));
}

#[tokio::test]
async fn labels_are_checked_too() {
    let (svc, _) = service();
    let mut bad = new_profile("labelled", ok_config("pw"));
    bad.labels.insert("bad key!".into(), "x".into());
    let Err(Error::Validation(v)) = svc.check(bad.clone()) else {
        panic!("a bad label key is invalid")
    };
    assert!(v.0.iter().any(|f| f.path.starts_with("/labels")), "{v:?}");
    assert!(svc.validate(&bad).is_err());
}

#[tokio::test]
async fn a_provisioners_check_is_redone_for_an_api_caller() {
    let (svc, _) = service();
    let mut managed = new_profile("managed", ok_config("pw"));
    managed
        .labels
        .insert(MANAGED_BY_LABEL.into(), "file:x.yaml".into());
    assert!(
        svc.check(managed.clone()).is_err(),
        "reserved for provisioning"
    );
    let checked = svc.provisioner().check(managed).expect("a provisioner may");
    let Err(Error::Validation(v)) = svc.create_checked(checked).await else {
        panic!("checked again, and refused")
    };
    assert!(v.0.iter().any(|f| f.path.starts_with("/labels")), "{v:?}");
}

#[tokio::test]
async fn a_check_by_another_service_is_redone() {
    let (svc, _) = service();
    // This service allows no references: the other one's check does not count.
    let other = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(FakeConnector::default())
        .secret_access(patchbay::SecretAccess::none().allow_env_prefix("CHECKED_"))
        .build()
        .unwrap();
    let with_ref = new_profile("ref", ok_config("{{ env:CHECKED_PW }}"));
    let checked = other.check(with_ref).expect("allowed there");
    assert!(matches!(
        svc.create_checked(checked).await,
        Err(Error::Validation(_))
    ));
}

#[tokio::test]
async fn reseal_reports_its_progress() {
    let repo = Arc::new(MemoryStore::new());
    let old = Key::generate();
    let first = ProfileService::builder(repo.clone())
        .connector(FakeConnector::default())
        .sealer(Keyring::new(old.clone()))
        .build()
        .unwrap();
    for i in 0..5 {
        let p = new_profile(&format!("p{i}"), ok_config("pw"));
        first.create(p).await.unwrap();
    }
    let rotated = ProfileService::builder(repo)
        .connector(FakeConnector::default())
        .sealer(Keyring::new(Key::generate()).with_older(old))
        .build()
        .unwrap();
    let seen = Mutex::new(Vec::new());
    let progress = |done: usize, total: usize| seen.lock().unwrap().push((done, total));
    let report = rotated.reseal_with_progress(&progress).await.unwrap();
    assert_eq!(report.resealed, 5);
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen, (0..=5).map(|d| (d, 5)).collect::<Vec<_>>());
}
