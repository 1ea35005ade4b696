//! The administrator's user list, one page at a time from the server
//! (`GET /api/v1/admin/users?q=&role=&sort=&limit=&offset=`): the query as sent
//! ([`UserListParams`]), checked once at the edge into a [`UserQuery`], the answer
//! ([`UserPage`]), and what a search term matches — the same as the app's search did when it
//! held every user: the username, the display name, the role (its id and its Chinese and English
//! names, [`ROLE_WORDS`]) and the names, codes and ids of the user's area.

use crate::case::Role;
use crate::ids::RecordId;
use crate::wire::UserSummary;
use serde::{Deserialize, Serialize};

/// Users on a page when the query does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most users one page may hold.
pub const MAX_LIMIT: u32 = 500;
/// The longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most search terms (words separated by white space).
pub const MAX_TERMS: usize = 8;

/// The roles as the app names them (`role.*` in `app/locales/{zh-CN,en}.json`; a test in the
/// app keeps the two equal): a search for "网格员" or "warden" finds the wardens.
pub const ROLE_WORDS: [(Role, &str, &str); 7] = [
    (Role::Warden, "网格员", "Warden"),
    (Role::GridLeader, "网格长", "Grid leader"),
    (Role::CommunityManager, "社区管理员", "Community manager"),
    (
        Role::SubdistrictManager,
        "街道（镇）管理员",
        "Subdistrict manager",
    ),
    (Role::CityManager, "市级管理员", "City manager"),
    (Role::UnitLiaison, "联盟单位联络员", "Alliance unit liaison"),
    (Role::Admin, "系统管理员", "Administrator"),
];

/// The columns the list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserSort {
    Username,
    /// The display name (then the username).
    Name,
    /// The role, in the order of [`Role::ALL`] (then the username).
    Role,
    /// The names of the area: the first subdistrict's, then the first community's, then the
    /// first grid's (then the username); users without an area last.
    Area,
}

impl UserSort {
    pub const ALL: [UserSort; 4] = [Self::Username, Self::Name, Self::Role, Self::Area];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Name => "name",
            Self::Role => "role",
            Self::Area => "area",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The query string as sent: every part optional, nothing else allowed (a misspelt parameter
/// is an error, not silently the whole list).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// Search terms separated by white space; a user matches when every term is found.
    #[serde(default)]
    pub q: Option<String>,
    /// Only users with this role (its id: `warden`, `grid_leader`, …).
    #[serde(default)]
    pub role: Option<String>,
    /// `username`, `name`, `role` or `area`; a leading `-` sorts descending.
    #[serde(default)]
    pub sort: Option<String>,
    /// Users on the page: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many matching users to skip (in the sort order).
    #[serde(default)]
    pub offset: Option<u64>,
}

/// A checked query: folded search terms, a role filter, the order and the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserQuery {
    /// Case-folded, non-empty, at most [`MAX_TERMS`].
    pub terms: Vec<String>,
    pub role: Option<Role>,
    pub sort: UserSort,
    pub desc: bool,
    pub limit: u32,
    pub offset: u64,
}

impl Default for UserQuery {
    /// The first page of everyone, by username.
    fn default() -> Self {
        Self {
            terms: Vec::new(),
            role: None,
            sort: UserSort::Username,
            desc: false,
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl UserQuery {
    /// Checks the parameters; the error says, for a person, what is wrong.
    pub fn parse(p: &UserListParams) -> Result<Self, String> {
        let q = p.q.as_deref().unwrap_or("");
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(format!(
                "the search text 'q' has more than {MAX_QUERY_CHARS} characters"
            ));
        }
        let terms = search_terms(q);
        if terms.len() > MAX_TERMS {
            return Err(format!(
                "the search text 'q' has more than {MAX_TERMS} words"
            ));
        }
        let role = match p.role.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => Some(Role::parse(r).ok_or_else(|| {
                format!(
                    "'role' is one of {}, not '{r}'",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })?),
        };
        let (sort, desc) = match p.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => (UserSort::Username, false),
            Some(s) => {
                let (name, desc) = s.strip_prefix('-').map_or((s, false), |n| (n, true));
                let key = UserSort::parse(name).ok_or_else(|| {
                    format!(
                        "'sort' is one of {} (a leading '-' for descending), not '{s}'",
                        UserSort::ALL.map(UserSort::as_str).join(", ")
                    )
                })?;
                (key, desc)
            }
        };
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("'limit' is from 1 to {MAX_LIMIT}, not {limit}"));
        }
        Ok(Self {
            terms,
            role,
            sort,
            desc,
            limit,
            offset: p.offset.unwrap_or(0),
        })
    }

    /// The parameters that ask for this query (what the app sends; parses back to `self`).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.terms.is_empty() {
            out.push(("q", self.terms.join(" ")));
        }
        if let Some(r) = self.role {
            out.push(("role", r.as_str().to_owned()));
        }
        let dir = if self.desc { "-" } else { "" };
        out.push(("sort", format!("{dir}{}", self.sort.as_str())));
        out.push(("limit", self.limit.to_string()));
        out.push(("offset", self.offset.to_string()));
        out
    }
}

/// The terms of a search text: split at white space, case-folded.
pub fn search_terms(text: &str) -> Vec<String> {
    text.split_whitespace().map(fold).collect()
}

/// Case folding, as every side folds: what is stored to search in and the terms alike.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// The folded text a term is looked for in, for a user's own fields (the role and the area are
/// matched separately): the username and the display name, one per line, so no term spans two.
pub fn user_hay(username: &str, display_name: &str) -> String {
    fold(&format!("{username}\n{display_name}"))
}

/// The folded text a term is looked for in, for a place of a user's area: its name and code.
pub fn place_hay(name: &str, code: &str) -> String {
    fold(&format!("{name}\n{code}"))
}

/// The roles a folded term finds: its id or either name contains the term.
pub fn roles_matching(term: &str) -> Vec<Role> {
    ROLE_WORDS
        .iter()
        .filter(|(r, zh, en)| [r.as_str(), zh, en].iter().any(|w| fold(w).contains(term)))
        .map(|(r, ..)| *r)
        .collect()
}

/// A place of a listed user's area, named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaName {
    pub id: RecordId,
    pub name: String,
    pub code: String,
}

/// One page of the user list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    /// The users of the page, in the query's order.
    pub users: Vec<UserSummary>,
    /// How many users match the query (every page's).
    pub total: u64,
    /// How many users there are, matching or not.
    pub all: u64,
    /// The names of the places in the page's users' areas (a place whose record is gone is
    /// absent: the app shows its id).
    #[serde(default)]
    pub places: Vec<AreaName>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Result<UserQuery, String> {
        let mut p = UserListParams::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "q" => p.q = v,
                "role" => p.role = v,
                "sort" => p.sort = v,
                "limit" => p.limit = v.and_then(|v| v.parse().ok()),
                "offset" => p.offset = v.and_then(|v| v.parse().ok()),
                _ => unreachable!(),
            }
        }
        UserQuery::parse(&p)
    }

    #[test]
    fn an_empty_query_is_the_first_page_by_username() {
        assert_eq!(params(&[]), Ok(UserQuery::default()));
        assert_eq!(
            params(&[("q", "  "), ("role", ""), ("sort", "")]),
            Ok(UserQuery::default())
        );
    }

    #[test]
    fn terms_are_folded_and_the_order_and_page_read() {
        let q = params(&[
            ("q", " W0001  张三 "),
            ("role", "warden"),
            ("sort", "-area"),
            ("limit", "500"),
            ("offset", "100"),
        ])
        .unwrap();
        assert_eq!(q.terms, ["w0001", "张三"]);
        assert_eq!(q.role, Some(Role::Warden));
        assert_eq!(
            (q.sort, q.desc, q.limit, q.offset),
            (UserSort::Area, true, 500, 100)
        );
    }

    #[test]
    fn bad_parameters_say_what_is_wrong() {
        let err = |pairs: &[(&str, &str)]| params(pairs).unwrap_err();
        assert!(err(&[("role", "mayor")]).contains("'role' is one of warden"));
        assert!(err(&[("sort", "age")]).contains("'sort' is one of username, name, role, area"));
        assert!(err(&[("sort", "--name")]).contains("not '--name'"));
        assert!(err(&[("limit", "0")]).contains("'limit' is from 1 to 500"));
        assert!(err(&[("limit", "501")]).contains("not 501"));
        assert!(err(&[("q", &"x".repeat(201))]).contains("more than 200 characters"));
        assert!(err(&[("q", "a b c d e f g h i")]).contains("more than 8 words"));
    }

    #[test]
    fn params_parse_back_to_the_query() {
        let q = UserQuery {
            terms: vec!["第一网格".into(), "warden".into()],
            role: Some(Role::GridLeader),
            sort: UserSort::Name,
            desc: true,
            limit: 20,
            offset: 40,
        };
        let pairs: Vec<(&str, String)> = q.params();
        let back: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(params(&back), Ok(q));
    }

    #[test]
    fn a_term_finds_roles_by_id_and_both_names() {
        assert_eq!(roles_matching("warden"), [Role::Warden]);
        assert_eq!(roles_matching("网格"), [Role::Warden, Role::GridLeader]);
        assert_eq!(
            roles_matching("manager"),
            [
                Role::CommunityManager,
                Role::SubdistrictManager,
                Role::CityManager
            ]
        );
        assert_eq!(roles_matching("administrator"), [Role::Admin]);
        assert!(roles_matching("nobody").is_empty());
    }
}
