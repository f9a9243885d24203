//! The risk API: `GET /api/risk` (every enterprise's record; filters colour, region, city,
//! park), `GET /api/risk/{id}` (its record, facts, open warnings and permits in progress),
//! `GET /api/regions` (county and city control indices with their quota ledgers),
//! `GET /api/risk/stream` (server-sent events: `enterprise` and `regions`), and the planner's
//! `GET /api/enforcement/snapshot` and `GET /api/enforcement/plan`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::enforce::facts::EnterpriseFacts;
use crate::enforce::plan::{plan, PlanRules};
use crate::enforce::request::PlanQuery;
use crate::model::EventTime;
use crate::risk::view::RiskChange;
use crate::risk::RiskRecord;
use crate::state::EnterpriseState;
use crate::warnings::view::WarningQuery;
use crate::warnings::WarningRecord;

use super::state::AppState;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskQuery {
    pub color: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub park: Option<String>,
}

pub async fn list(State(app): State<AppState>, Query(q): Query<RiskQuery>) -> impl IntoResponse {
    let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    let records: Vec<RiskRecord> = app
        .risk
        .enterprises()
        .into_iter()
        .map(|v| v.risk)
        .filter(|r| {
            is(&q.color, r.color.as_str())
                && is(&q.region, &r.region_id)
                && is(&q.city, &r.city_id)
                && is(&q.park, r.park_id.as_deref().unwrap_or(""))
        })
        .collect();
    Json(records)
}

/// A permit in progress, for the enterprise's drill-down.
#[derive(Serialize)]
pub struct PermitInProgress {
    pub permit_id: String,
    #[serde(rename = "type")]
    pub permit_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hot_grade: Option<&'static str>,
    pub phase: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_start: Option<EventTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_end: Option<EventTime>,
}

#[derive(Serialize)]
pub struct EnterpriseDetail {
    pub risk: RiskRecord,
    pub facts: EnterpriseFacts,
    pub warnings: Vec<WarningRecord>,
    pub permits: Vec<PermitInProgress>,
    /// The index over the last day: a point per quarter hour (`risk::history`).
    pub history: Vec<crate::risk::history::IndexPoint>,
}

pub async fn one(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(view) = app.risk.enterprise(&id) else {
        return (StatusCode::NOT_FOUND, format!("no risk record for {id}")).into_response();
    };
    let warnings = app.warnings.list(&WarningQuery {
        state: Some("open".into()),
        enterprise: Some(id.clone()),
        ..WarningQuery::default()
    });
    let permits = app
        .store
        .with_enterprise(&id, permits_in_progress)
        .unwrap_or_default();
    Json(EnterpriseDetail {
        history: app.risk.history(&id),
        risk: view.risk,
        facts: view.facts,
        warnings,
        permits,
    })
    .into_response()
}

fn permits_in_progress(e: &EnterpriseState) -> Vec<PermitInProgress> {
    let mut out: Vec<PermitInProgress> = e
        .permits
        .values()
        .filter(|p| !p.phase.is_terminal())
        .map(|p| PermitInProgress {
            permit_id: p.latest.permit_id.clone(),
            permit_type: p.latest.permit_type.as_str(),
            hot_grade: p.latest.hot_grade.map(|g| g.as_str()),
            phase: p.phase.as_str(),
            area_id: p.latest.area_id.clone(),
            planned_start: p.latest.planned_start,
            planned_end: p.latest.planned_end,
        })
        .collect();
    out.sort_by(|a, b| a.permit_id.cmp(&b.permit_id));
    out
}

#[derive(Serialize)]
struct Regions {
    counties: Vec<crate::risk::region::RegionIndex>,
    cities: Vec<crate::risk::region::CityIndex>,
}

pub async fn regions(State(app): State<AppState>) -> impl IntoResponse {
    let (counties, cities) = app.risk.regions();
    Json(Regions { counties, cities })
}

/// `enterprise` events (a risk record) and `regions` events (every county and city index);
/// 503 beyond `api.max_sse_clients`.
pub async fn stream(State(app): State<AppState>) -> Response {
    let Some(slot) = app.sse.take() else {
        return super::sse::too_many_streams();
    };
    super::sse::events(
        app.risk.subscribe(),
        slot,
        "vigil risk",
        |change| match change {
            RiskChange::Enterprise(r) => ("enterprise", Some(r.enterprise_id.clone())),
            RiskChange::Regions { .. } => ("regions", None),
        },
    )
    .into_response()
}

pub async fn snapshot(State(app): State<AppState>) -> impl IntoResponse {
    Json(app.risk.snapshot())
}

/// Longest a plan may take before the request is answered 503 (the planning thread finishes
/// on its own; the bounded parameters keep that short).
const PLAN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Parameters are checked first (400 with `{"parameter", "message"}`); the plan is made on a
/// blocking thread, so a large county does not hold an async worker.
pub async fn enforcement_plan(
    State(app): State<AppState>,
    Query(query): Query<PlanQuery>,
) -> Response {
    let request = match query.validate(&app.seed_key) {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(e)).into_response(),
    };
    let planning = tokio::task::spawn_blocking(move || {
        let rules = PlanRules {
            enforce: &app.config.enforce,
            quotas: &app.config.risk.region,
            utc_offset_minutes: app.config.rules.utc_offset_minutes,
        };
        plan(&app.risk.snapshot(), &request, &rules)
    });
    match tokio::time::timeout(PLAN_DEADLINE, planning).await {
        Ok(Ok(made)) => {
            tracing::info!(region = %made.region_id, date = %made.date, seed = made.seed, tasks = made.tasks.len(), "inspection plan served");
            Json(made).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "planning failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "planning failed").into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the plan took longer than {PLAN_DEADLINE:?}"),
        )
            .into_response(),
    }
}
