//! The home screen's tiles (mine, due within a day, overdue): the list filter each counts with
//! and the list link that shows exactly that (`ui::home`, read back by `ui::cases::CaseList`).

use tongxin_shared::case::Role;
use tongxin_shared::query::CaseFilter;

/// The home tiles: the filter each one counts with, and the list link that shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tile {
    Mine,
    DueSoon,
    Overdue,
}

impl Tile {
    pub const ALL: [Tile; 3] = [Tile::Mine, Tile::DueSoon, Tile::Overdue];

    /// The case-list filter of the tile for user `me`.
    pub fn filter(self, me: &str) -> CaseFilter {
        match self {
            Tile::Mine => CaseFilter {
                mine: Some(me.to_owned()),
                open_only: true,
                ..CaseFilter::default()
            },
            Tile::DueSoon => CaseFilter {
                due_soon: true,
                ..CaseFilter::default()
            },
            Tile::Overdue => CaseFilter {
                overdue_only: true,
                ..CaseFilter::default()
            },
        }
    }

    /// The case list, filtered as the tile counts (read back by `CaseList`).
    pub fn href(self) -> &'static str {
        match self {
            Tile::Mine => "/cases?mine=1&open=1",
            Tile::DueSoon => "/cases?due=soon",
            Tile::Overdue => "/cases?overdue=1",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tile::Mine => "home.mine",
            Tile::DueSoon => "home.due_soon",
            Tile::Overdue => "home.overdue",
        }
    }

    pub fn testid(self) -> &'static str {
        match self {
            Tile::Mine => "today-mine",
            Tile::DueSoon => "today-soon",
            Tile::Overdue => "today-overdue",
        }
    }
}

/// The home text for a role: a field worker's bench or a manager's.
pub fn welcome_key(role: Option<Role>) -> &'static str {
    match role {
        Some(r) if r.is_manager() => "home.welcome.manager",
        Some(Role::UnitLiaison) => "home.welcome.unit",
        _ => "home.welcome",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tile_links_to_the_list_filtered_as_it_counts() {
        // The list reads these parameters back (`CaseList`): mine+open, due=soon, overdue.
        assert_eq!(Tile::Mine.href(), "/cases?mine=1&open=1");
        let mine = Tile::Mine.filter("w1");
        assert_eq!(mine.mine.as_deref(), Some("w1"));
        assert!(mine.open_only && !mine.overdue_only && !mine.due_soon);
        assert!(Tile::DueSoon.filter("w1").due_soon);
        assert!(Tile::Overdue.filter("w1").overdue_only);
        assert_eq!(welcome_key(Some(Role::CityManager)), "home.welcome.manager");
        assert_eq!(welcome_key(Some(Role::Warden)), "home.welcome");
    }
}
