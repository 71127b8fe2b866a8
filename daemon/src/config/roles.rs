//! Resolving `[roles]`: group and user names (or numbers) to ids, role names to [`Role`]s, and
//! each granted group's member list to user ids, so the control socket maps a peer's uid/gid
//! to its roles without asking the system again.
//!
//! ```toml
//! [roles]
//! groups = { hallq-kiosk = ["kiosk"], hallq-clerk = ["clerk"], hallq-lead = ["clerk", "supervisor", "operator"] }
//! users = { root = ["operator"], "1001" = ["evaluator"] }
//! ```
//!
//! A name must exist on this machine (`getent group NAME`); a number is taken as it is.

use std::collections::BTreeMap;

use toml::Spanned;

use super::accounts;
use super::check::Checker;
use super::raw::RawRoles;
use super::RoleGrants;
use crate::role::{Role, RoleSet};

pub(super) fn resolve(check: &mut Checker<'_>, raw: &Spanned<RawRoles>) -> RoleGrants {
    let raw = raw.get_ref();
    let mut grants = RoleGrants::default();
    for (name, roles) in &raw.groups {
        let roles = role_set(check, "roles.groups", name, roles);
        let group = match name.get_ref().parse::<u32>() {
            Ok(gid) => Some(accounts::group_by_id(gid).unwrap_or(accounts::Group {
                gid,
                members: Vec::new(),
            })),
            Err(_) => accounts::group_by_name(name.get_ref()),
        };
        let Some(group) = group else {
            let message = format!(
                "no group {:?} on this machine (create it with `groupadd`, see docs/install.md)",
                name.get_ref()
            );
            check.error(name, "roles.groups", message);
            continue;
        };
        add(&mut grants.groups, group.gid, roles);
        for member in &group.members {
            if let Some(uid) = accounts::uid_by_name(member) {
                add(&mut grants.members, uid, roles);
            }
        }
    }
    for (name, roles) in &raw.users {
        let roles = role_set(check, "roles.users", name, roles);
        let uid = name
            .get_ref()
            .parse::<u32>()
            .ok()
            .or_else(|| accounts::uid_by_name(name.get_ref()));
        match uid {
            Some(uid) => add(&mut grants.users, uid, roles),
            None => {
                let message = format!("no user {:?} on this machine", name.get_ref());
                check.error(name, "roles.users", message);
            }
        }
    }
    grants
}

fn add(map: &mut BTreeMap<u32, RoleSet>, id: u32, roles: RoleSet) {
    let entry = map.entry(id).or_default();
    *entry = entry.union(roles);
}

fn role_set(
    check: &mut Checker<'_>,
    key: &str,
    name: &Spanned<String>,
    roles: &Spanned<Vec<Spanned<String>>>,
) -> RoleSet {
    let key = format!("{key}.{}", name.get_ref());
    if roles.get_ref().is_empty() {
        check.error(roles, &key, "must name at least one role".into());
    }
    let mut set = RoleSet::NONE;
    for role in roles.get_ref() {
        match Role::parse(role.get_ref()) {
            Some(r) => set.insert(r),
            None => {
                let message = format!(
                    "unknown role {:?} (expected kiosk, clerk, supervisor, evaluator or operator)",
                    role.get_ref()
                );
                check.error(role, &key, message);
            }
        }
    }
    set
}
