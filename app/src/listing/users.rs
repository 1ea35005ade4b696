//! An account as a row of the administrator's user list: search by name, username, role and
//! area; sort by those.

use super::{Sort, Terms};
use crate::i18n::{tr, Lang};
use std::cmp::Ordering;
use tongxin_shared::case::Role;
use tongxin_shared::wire::UserSummary;

/// The columns the user list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserSort {
    Username,
    Name,
    Role,
    Area,
}

pub const BY_USERNAME: Sort<UserSort> = Sort {
    key: UserSort::Username,
    desc: false,
};

/// A user with what the list searches in: username, display name, role (the code and its words
/// in both languages) and the names and codes of their area, case-folded.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub user: UserSummary,
    /// The area as shown: the names of the grids, communities and subdistricts.
    pub area: String,
    pub hay: String,
}

impl UserRow {
    /// `area_name` gives a place's name and code by id (`None`: not on this device).
    pub fn new(user: UserSummary, area_name: impl Fn(&str) -> Option<(String, String)>) -> Self {
        let mut shown = Vec::new();
        let mut hay = format!(
            "{}\n{}\n{}\n{}\n{}",
            user.username,
            user.display_name,
            user.role.as_str(),
            tr(Lang::ZhCn, &format!("role.{}", user.role.as_str())),
            tr(Lang::En, &format!("role.{}", user.role.as_str())),
        );
        for id in user
            .subdistricts
            .iter()
            .chain(&user.communities)
            .chain(&user.grids)
        {
            let key = id.to_string();
            match area_name(&key) {
                Some((name, code)) => {
                    for part in ["\n", &name, "\n", &code] {
                        hay.push_str(part);
                    }
                    shown.push(name);
                }
                None => shown.push(key.clone()),
            }
            hay.push('\n');
            hay.push_str(&key);
        }
        Self {
            area: shown.join("、"),
            hay: hay.to_lowercase(),
            user,
        }
    }
}

fn role_rank(r: Role) -> usize {
    Role::ALL.iter().position(|x| *x == r).unwrap_or(usize::MAX)
}

/// The positions of the users holding every term, in `sort` order (ties: username).
pub fn select(rows: &[UserRow], terms: &Terms, sort: Sort<UserSort>) -> Vec<u32> {
    let mut out: Vec<u32> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| terms.iter().all(|t| r.hay.contains(t)))
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    out.sort_by(|a, b| {
        let (x, y) = (&rows[*a as usize], &rows[*b as usize]);
        let primary = match sort.key {
            UserSort::Username => Ordering::Equal,
            UserSort::Name => x.user.display_name.cmp(&y.user.display_name),
            UserSort::Role => role_rank(x.user.role).cmp(&role_rank(y.user.role)),
            // Users without an area last.
            UserSort::Area => (x.area.is_empty(), &x.area).cmp(&(y.area.is_empty(), &y.area)),
        };
        sort.apply(primary.then_with(|| x.user.username.cmp(&y.user.username)))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str, name: &str, role: Role, grids: &[u128]) -> UserSummary {
        UserSummary {
            username: username.into(),
            display_name: name.into(),
            role,
            grids: grids
                .iter()
                .map(|g| tongxin_shared::RecordId(uuid::Uuid::from_u128(*g)))
                .collect(),
            communities: Vec::new(),
            subdistricts: Vec::new(),
            disabled: false,
        }
    }

    fn rows() -> Vec<UserRow> {
        let area = |id: &str| {
            (id == uuid::Uuid::from_u128(1).to_string())
                .then(|| ("第一网格".to_owned(), "S1-C01-G01".to_owned()))
        };
        vec![
            UserRow::new(user("w0002", "李四", Role::Warden, &[1]), area),
            UserRow::new(user("cm01", "王五", Role::CommunityManager, &[]), area),
            UserRow::new(user("w0001", "张三", Role::Warden, &[2]), area),
        ]
    }

    fn names(rows: &[UserRow], q: &str, sort: Sort<UserSort>) -> Vec<String> {
        select(rows, &Terms::parse(q), sort)
            .into_iter()
            .map(|i| rows[i as usize].user.username.clone())
            .collect()
    }

    #[test]
    fn searches_username_name_role_in_both_languages_and_area() {
        let r = rows();
        assert_eq!(names(&r, "W000", BY_USERNAME), ["w0001", "w0002"]);
        assert_eq!(names(&r, "王五", BY_USERNAME), ["cm01"]);
        assert_eq!(names(&r, "warden", BY_USERNAME), ["w0001", "w0002"]);
        assert_eq!(
            names(&r, &tr(Lang::ZhCn, "role.community_manager"), BY_USERNAME),
            ["cm01"]
        );
        assert_eq!(names(&r, "第一网格", BY_USERNAME), ["w0002"]);
        assert_eq!(names(&r, "s1-c01-g01 李四", BY_USERNAME), ["w0002"]);
        assert!(names(&r, "第一网格 张三", BY_USERNAME).is_empty());
        assert_eq!(r[0].area, "第一网格");
    }

    #[test]
    fn sorts_by_role_name_and_area() {
        let r = rows();
        let by = |key, desc| Sort { key, desc };
        assert_eq!(
            names(&r, "", by(UserSort::Username, true)),
            ["w0002", "w0001", "cm01"]
        );
        assert_eq!(names(&r, "", by(UserSort::Role, false))[0], "w0001");
        assert_eq!(
            names(&r, "", by(UserSort::Area, false))
                .last()
                .map(String::as_str),
            Some("cm01")
        );
        // By code point: 张 (U+5F20) < 李 (U+674E) < 王 (U+738B).
        assert_eq!(
            names(&r, "", by(UserSort::Name, false)),
            ["w0001", "w0002", "cm01"]
        );
    }
}
