//! Issue 14's figures, for any store: a create with its audit event beside
//! a plain create, and a page of 100 with a label filter beside the same
//! page without, in one tenant of 100 holding 1,000 profiles each (100,000
//! in all; half of each tenant carries `env=prod`).

use patchbay_core::{
    AuditAction, AuditEvent, AuditOutcome, ListQuery, ProfileRepository, TenantId,
};
use patchbay_testkit::repository::tenants::fixture_in;
use patchbay_testkit::repository::unique;
use tokio::runtime::Runtime;

use crate::paired;

/// Tenants and profiles per tenant of the seeded label set.
pub(crate) const TENANTS: usize = 100;
pub(crate) const PER_TENANT: usize = 1_000;

/// The tenant of seeded profile `i` (`t00`…`t99`).
pub(crate) fn tenant_of(i: usize) -> String {
    format!("t{:02}", i % TENANTS)
}

async fn create(repo: &dyn ProfileRepository, tenant: &TenantId) {
    let p = fixture_in(tenant, &unique("c"), "fake");
    repo.create(&p).await.expect("create");
}

async fn create_audited(repo: &dyn ProfileRepository, tenant: &TenantId) {
    let p = fixture_in(tenant, &unique("c"), "fake");
    let event = AuditEvent {
        seq: 0,
        at: p.created_at,
        tenant: tenant.clone(),
        principal: Some("bench".into()),
        action: AuditAction::Create,
        profile_id: Some(p.id.clone()),
        version: Some(1),
        outcome: AuditOutcome::Success,
        error_code: None,
    };
    repo.create_audited(&p, &event)
        .await
        .expect("create audited");
}

async fn list(repo: &dyn ProfileRepository, tenant: &TenantId, labels: &[(String, String)]) {
    let query = ListQuery {
        labels: labels.to_vec(),
        limit: 100,
        ..ListQuery::default()
    };
    let page = repo.list(tenant, &query).await.expect("list");
    assert_eq!(page.items.len(), 100);
}

/// Audited create ÷ plain create on `repo`.
pub(crate) fn audit_cost(rt: &Runtime, label: &str, repo: &dyn ProfileRepository) {
    let tenant = TenantId::new("bench-audit").expect("tenant");
    paired(
        rt,
        &format!("{label} create with audit ÷ without"),
        20,
        |_| create_audited(repo, &tenant),
        |_| create(repo, &tenant),
    );
}

/// Label-filtered page ÷ unfiltered page on `repo`, seeded with the label
/// set (one tenant of the 100, the middle one).
pub(crate) fn label_filter_cost(rt: &Runtime, label: &str, repo: &dyn ProfileRepository) {
    let tenant = TenantId::new(&tenant_of(TENANTS / 2)).expect("tenant");
    let prod = [("env".to_owned(), "prod".to_owned())];
    paired(
        rt,
        &format!("{label} list 100 with label ÷ without (100k profiles, 100 tenants)"),
        20,
        |_| list(repo, &tenant, &prod),
        |_| list(repo, &tenant, &[]),
    );
}
