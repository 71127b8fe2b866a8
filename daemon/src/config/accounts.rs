//! Looking up Unix users and groups by name (NSS: `/etc/passwd`, `/etc/group`, LDAP, ...), for
//! the `[roles]` section. The one place config resolution asks the system anything: a group
//! name in the file must exist on the machine that runs the hall.
//!
//! Owns: the re-entrant libc calls and their buffer handling. Does not own: what the ids mean.

use std::ffi::{CStr, CString};

/// A group: its id and the login names listed as its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub gid: u32,
    pub members: Vec<String>,
}

/// The group named `name`, if it exists.
pub fn group_by_name(name: &str) -> Option<Group> {
    let name = CString::new(name).ok()?;
    lookup_group(|grp, buf, len, result| {
        // SAFETY: every pointer is valid for the call; `buf` has `len` writable bytes.
        unsafe { libc::getgrnam_r(name.as_ptr(), grp, buf, len, result) }
    })
}

/// The group with id `gid`, if it exists.
pub fn group_by_id(gid: u32) -> Option<Group> {
    lookup_group(|grp, buf, len, result| {
        // SAFETY: as above.
        unsafe { libc::getgrgid_r(gid, grp, buf, len, result) }
    })
}

/// The user id of the login `name`, if it exists.
pub fn uid_by_name(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: zeroed passwd is a valid out-parameter; getpwnam_r fills it.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` has `buf.len()` writable bytes.
        let rc = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return (rc == 0 && !result.is_null()).then_some(pwd.pw_uid);
    }
}

fn lookup_group(
    call: impl Fn(
        *mut libc::group,
        *mut libc::c_char,
        libc::size_t,
        *mut *mut libc::group,
    ) -> libc::c_int,
) -> Option<Group> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: zeroed group is a valid out-parameter; the call fills it.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        let rc = call(&mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut result);
        if rc == libc::ERANGE && buf.len() < 1 << 22 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        let mut members = Vec::new();
        let mut at = grp.gr_mem;
        // SAFETY: gr_mem is a NULL-terminated array of C strings inside `buf`, alive here.
        unsafe {
            while !at.is_null() && !(*at).is_null() {
                members.push(CStr::from_ptr(*at).to_string_lossy().into_owned());
                at = at.add(1);
            }
        }
        return Some(Group {
            gid: grp.gr_gid,
            members,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_everywhere_and_nonsense_does_not() {
        assert_eq!(uid_by_name("root"), Some(0));
        assert_eq!(group_by_id(0).map(|g| g.gid), Some(0));
        let root = group_by_name("root").expect("group root");
        assert_eq!(root.gid, 0);
        assert_eq!(uid_by_name("no-such-user-hallq-test"), None);
        assert_eq!(group_by_name("no-such-group-hallq-test"), None);
        assert_eq!(group_by_name("nul\0byte"), None);
    }
}
