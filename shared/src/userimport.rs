//! Bulk import of user accounts from a CSV or XLSX file (`POST /api/v1/admin/import/users`): the wire
//! types, the columns the file may use, and the problems a row can have. The server parses and
//! judges the file (it is the authority: grid codes, existing usernames); the app shows its
//! preview and, once applied, the generated initial passwords (once, and as a download).
//!
//! Rows are numbered as a spreadsheet shows them: the header is row 1, the first person row 2.

use crate::case::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most people one file may create.
pub const MAX_IMPORT_USERS: usize = 2000;
/// Largest file accepted (CSV or XLSX), in bytes.
pub const MAX_IMPORT_CSV_BYTES: usize = 2 * 1024 * 1024;

/// `POST /api/v1/admin/import/users`: the file — a CSV's text (UTF-8, with or without a
/// byte-order mark), or an XLSX workbook in base64 (its first sheet is read). With
/// `apply = false` the server only checks it and answers the preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserImportRequest {
    #[serde(default)]
    pub csv: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xlsx_base64: Option<String>,
    #[serde(default)]
    pub apply: bool,
}

/// One person of the file, as it will be created. Areas are codes, as in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserImportRow {
    /// The row in the file (the header is row 1).
    pub row: usize,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub grids: Vec<String>,
    #[serde(default)]
    pub communities: Vec<String>,
    #[serde(default)]
    pub subdistricts: Vec<String>,
}

/// One problem with the file: its row (the header is row 1; `None` for the file as a whole),
/// a stable code with the values its text names (the app says it from its
/// `users_import.why.<code>` strings), and the English text for API users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserImportProblem {
    pub row: Option<usize>,
    pub code: String,
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    pub message: String,
}

/// A created account and its generated initial password. Sent once, in the answer that
/// created it; the server keeps only the hash and never logs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// The answer: the problems (then nothing was created, status 422), or the rows, created when
/// `applied` (with their passwords).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserImportReport {
    #[serde(default)]
    pub problems: Vec<UserImportProblem>,
    #[serde(default)]
    pub rows: Vec<UserImportRow>,
    #[serde(default)]
    pub created: Vec<CreatedUser>,
    #[serde(default)]
    pub applied: bool,
}

/// The columns of the file and the header names accepted for each (English or Chinese).
/// `username`, `display_name` and `role` are required; a person's area is given by the column of
/// their level (several codes separated by `;`, `,`, `、` or spaces).
pub const COLUMNS: &[(&str, &[&str])] = &[
    ("username", &["username", "用户名", "账号"]),
    (
        "display_name",
        &["display_name", "name", "姓名", "显示名称"],
    ),
    ("role", &["role", "角色"]),
    ("grids", &["grids", "grid", "网格编码", "网格"]),
    (
        "communities",
        &["communities", "community", "社区编码", "社区"],
    ),
    (
        "subdistricts",
        &["subdistricts", "subdistrict", "街道编码", "街道"],
    ),
];

/// The roles by the words a file may use: the role's id or its Chinese name.
pub const ROLE_NAMES: &[(&str, Role)] = &[
    ("网格员", Role::Warden),
    ("网格长", Role::GridLeader),
    ("社区管理员", Role::CommunityManager),
    ("街道管理员", Role::SubdistrictManager),
    ("街道（镇）管理员", Role::SubdistrictManager),
    ("市级管理员", Role::CityManager),
    ("联盟单位联络员", Role::UnitLiaison),
    ("系统管理员", Role::Admin),
];

/// A role from a cell: its id (`warden`) or Chinese name (`网格员`).
pub fn parse_role(cell: &str) -> Option<Role> {
    let cell = cell.trim();
    Role::parse(&cell.to_ascii_lowercase()).or_else(|| {
        ROLE_NAMES
            .iter()
            .find(|(name, _)| *name == cell)
            .map(|(_, r)| *r)
    })
}

/// The codes in a cell: split at `;`, `,`, `，`, `、` and whitespace.
pub fn codes(cell: &str) -> Vec<String> {
    cell.split(|c: char| matches!(c, ';' | ',' | '，' | '、' | '；') || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

/// The problems a file can have, by code, with their English text (`{name}` is an arg).
pub const PROBLEM_TEXTS: &[(&str, &str)] = &[
    ("not_csv", "the file cannot be read as CSV: {e}"),
    ("not_xlsx", "the file cannot be read as an XLSX workbook: {e}"),
    ("empty", "the file has no people: a header row, then one row per person"),
    ("too_many", "the file has {n} people; at most {max} may be imported at once"),
    ("missing_column", "the header has no '{column}' column"),
    ("bad_username", "the username '{username}' is not 2 to 40 letters, digits, '.', '_' or '-'"),
    ("duplicate_username", "the username '{username}' is used in row {first} too"),
    ("existing_username", "a user named '{username}' already exists"),
    ("bad_role", "'{role}' is not a role (use warden, grid_leader, community_manager, subdistrict_manager, city_manager, unit_liaison or admin, or their Chinese names)"),
    ("long_name", "the name has more than {max} characters"),
    ("unknown_grid", "there is no grid with the code '{code}'"),
    ("unknown_community", "there is no community with the code '{code}'"),
    ("unknown_subdistrict", "there is no subdistrict with the code '{code}'"),
    ("missing_area", "a {role} needs {what}"),
    ("taken", "the username '{username}' was taken while importing"),
];

/// Longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 60;

/// A problem by its code (one of [`PROBLEM_TEXTS`]) and the values its text names.
pub fn problem(
    row: Option<usize>,
    code: &'static str,
    args: &[(&str, String)],
) -> UserImportProblem {
    let (args, message) = crate::problem_text::render(PROBLEM_TEXTS, code, args);
    UserImportProblem {
        row,
        code: code.to_owned(),
        message,
        args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_id_or_chinese_name_and_codes_by_any_separator() {
        assert_eq!(parse_role("warden"), Some(Role::Warden));
        assert_eq!(parse_role(" 网格员 "), Some(Role::Warden));
        assert_eq!(parse_role("Grid_Leader"), Some(Role::GridLeader));
        assert_eq!(parse_role("boss"), None);
        assert_eq!(codes("G1; G2，G3、G4 G5"), ["G1", "G2", "G3", "G4", "G5"]);
        assert!(codes("  ").is_empty());
    }

    #[test]
    fn every_problem_has_a_text_that_names_its_values() {
        let p = problem(Some(3), "unknown_grid", &[("code", "G9".to_owned())]);
        assert_eq!(p.message, "there is no grid with the code 'G9'");
        assert_eq!(p.row, Some(3));
        for (code, text) in PROBLEM_TEXTS {
            assert!(!text.is_empty(), "{code}");
        }
    }
}
