//! An account as a row of the administrator's user list, and the query a list's search, sort
//! and page make. The search, sort and paging themselves are the server's
//! (`GET /api/v1/admin/users`, `tongxin_shared::userlist`): the device never holds every user.

use super::{Sort, PAGE_SIZE};
use std::collections::HashMap;
use tongxin_shared::case::Role;
use tongxin_shared::userlist::{search_terms, UserPage, UserQuery, MAX_TERMS};
use tongxin_shared::wire::UserSummary;

pub use tongxin_shared::userlist::UserSort;

pub const BY_USERNAME: Sort<UserSort> = Sort {
    key: UserSort::Username,
    desc: false,
};

/// A user with their area as shown: the names of their subdistricts, communities and grids.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub user: UserSummary,
    /// The names of the area's places, joined ("、"); a place the server could not name (its
    /// record is gone) by its id.
    pub area: String,
}

impl UserRow {
    /// The rows of a page, their areas named from the page's places.
    pub fn of_page(page: &UserPage) -> Vec<Self> {
        let names: HashMap<_, _> = page.places.iter().map(|p| (p.id, &p.name)).collect();
        page.users
            .iter()
            .map(|u| {
                let area: Vec<String> = u
                    .subdistricts
                    .iter()
                    .chain(&u.communities)
                    .chain(&u.grids)
                    .map(|id| {
                        names
                            .get(id)
                            .map_or_else(|| id.to_string(), |n| (*n).clone())
                    })
                    .collect();
                Self {
                    user: u.clone(),
                    area: area.join("、"),
                }
            })
            .collect()
    }
}

/// The server query for what the list shows: the text searched (its first [`MAX_TERMS`]
/// words), the role picked, the order, and page `page` of [`PAGE_SIZE`] users.
pub fn query(text: &str, role: Option<Role>, sort: Sort<UserSort>, page: usize) -> UserQuery {
    let mut terms = search_terms(text);
    terms.truncate(MAX_TERMS);
    UserQuery {
        terms,
        role,
        sort: sort.key,
        desc: sort.desc,
        limit: u32::try_from(PAGE_SIZE).unwrap_or(50),
        offset: (page * PAGE_SIZE) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{tr, Lang};
    use tongxin_shared::userlist::{AreaName, ROLE_WORDS};
    use tongxin_shared::RecordId;

    fn id(n: u128) -> RecordId {
        RecordId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn areas_are_named_from_the_page_and_by_id_when_unknown() {
        let page = UserPage {
            users: vec![UserSummary {
                username: "w0001".into(),
                display_name: "张三".into(),
                role: Role::Warden,
                grids: vec![id(1), id(2)],
                communities: vec![id(3)],
                subdistricts: Vec::new(),
                disabled: false,
            }],
            total: 1,
            all: 1,
            places: vec![
                AreaName {
                    id: id(1),
                    name: "第一网格".into(),
                    code: "G01".into(),
                },
                AreaName {
                    id: id(3),
                    name: "一社区".into(),
                    code: "C01".into(),
                },
            ],
        };
        let rows = UserRow::of_page(&page);
        assert_eq!(rows[0].area, format!("一社区、第一网格、{}", id(2)));
    }

    #[test]
    fn the_query_asks_for_the_page_shown() {
        let q = query(
            "  W0001  第一网格 ",
            Some(Role::Warden),
            Sort {
                key: UserSort::Area,
                desc: true,
            },
            2,
        );
        assert_eq!(q.terms, ["w0001", "第一网格"]);
        assert_eq!(q.role, Some(Role::Warden));
        assert_eq!(
            (q.sort, q.desc, q.limit, q.offset),
            (UserSort::Area, true, 50, 100)
        );
        assert_eq!(
            query("a b c d e f g h i j", None, BY_USERNAME, 0)
                .terms
                .len(),
            MAX_TERMS
        );
    }

    /// The server finds roles by the words the app shows them with.
    #[test]
    fn the_servers_role_words_are_the_apps() {
        for (role, zh, en) in ROLE_WORDS {
            let key = format!("role.{}", role.as_str());
            assert_eq!(
                (tr(Lang::ZhCn, &key), tr(Lang::En, &key)),
                (zh.to_owned(), en.to_owned())
            );
        }
        assert_eq!(ROLE_WORDS.map(|(r, ..)| r), Role::ALL);
    }
}
