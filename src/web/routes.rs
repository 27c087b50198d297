//! Every route is declared with the rule that guards it, so that no route can exist without one; the
//! authorization matrix test walks this list (`app_routes()`), for every role, in and out of scope.
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use super::AppState;
use super::access::{self, Guarded, Target};

/// Who may use a route. `web::access::Guarded` enforces it before the handler runs; the matrix test proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: the sign-in page, health checks.
    Public,
    /// Any signed-in user, about themselves.
    SignedIn,
    /// Any signed-in user whose scope holds the unit, cell, meeting or task named in the path.
    ReadUnit,
    /// As `ReadUnit`, and only roles that may see members' names (committee level and below, administrators).
    ReadNames,
    /// Roles that change meetings (administrator, committee clerk, cell secretary), for a cell in their scope.
    EditCell,
    /// Committee clerks and administrators, for units, members and officials in their scope.
    ManageRecords,
    /// Roles above the cell (administrators, province and district viewers, committee clerks), for a unit in their
    /// scope: publishing its report (DOMAIN.md §10).
    Publish,
    /// Administrators only, for users and units in their scope.
    Admin,
    /// Administrators and committee clerks, for user accounts in their scope (DOMAIN.md §13); the handler then
    /// allows a clerk only cell secretaries' accounts (`Role::may_grant`).
    ManageAccounts,
    /// Only the user a record belongs to (their own API tokens).
    Owner,
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// A router that records each route with its access rule.
pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes { router: Router::new(), specs: Vec::new() }
    }
}

/// The handler behind its rule; a rule that the path cannot carry (a unit rule on a path that names no unit) is a
/// mistake in the route table, caught when the router is built.
fn guard<H>(path: &'static str, access: Access, handler: H) -> Guarded<H> {
    let target = Target::of(path);
    assert!(access::consistent(access, target), "route {path}: {access:?} does not fit a path naming {target:?}");
    Guarded { handler, access, target }
}

impl Routes {
    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::GET, path, access, routing::get(guard(path, access, handler)))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.add(Method::POST, path, access, routing::post(guard(path, access, handler)))
    }

    fn add(mut self, method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Routes {
        self.router = self.router.route(path, handler);
        self.specs.push(RouteSpec { method, path, access });
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.specs.extend(other.specs);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.specs)
    }
}
