//! The roles of DESIGN §9 and sets of them: what the command list (`command::roles`) asks
//! of a caller and what the config's `[roles]` grants. A leaf: it depends on nothing of ours,
//! so the config and the command list can both use it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One role of DESIGN §9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Kiosk,
    Clerk,
    Supervisor,
    Evaluator,
    Operator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Kiosk,
        Role::Clerk,
        Role::Supervisor,
        Role::Evaluator,
        Role::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Evaluator => "evaluator",
            Role::Operator => "operator",
        }
    }

    /// The role named `name` (`kiosk`, `clerk`, ...).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    pub const NONE: RoleSet = RoleSet(0);

    /// Every role.
    pub fn all() -> RoleSet {
        Role::ALL.into_iter().collect()
    }

    /// What a control-socket peer holds when the config has no `[roles]` section: every role
    /// but `evaluator` (only the citizen rates, on the window's evaluator).
    pub fn socket_default() -> RoleSet {
        Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Evaluator)
            .collect()
    }

    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub fn insert(&mut self, role: Role) {
        self.0 |= role.bit();
    }

    pub fn union(self, other: RoleSet) -> RoleSet {
        RoleSet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut set = RoleSet::NONE;
        for role in iter {
            set.insert(role);
        }
        set
    }
}

impl fmt::Display for RoleSet {
    /// `kiosk, clerk` or `no role`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| self.contains(*r))
            .map(Role::as_str)
            .collect();
        if names.is_empty() {
            f.write_str("no role")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}
