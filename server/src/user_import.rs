//! `POST /api/v1/admin/import/users`: an administrator creates many accounts from one CSV file,
//! tied to the hierarchy by codes (grid, community or subdistrict code, as the admin knows them).
//! The server parses and judges every row (`check`, pure): row numbers as a spreadsheet shows
//! them (the header is row 1), unknown codes, duplicate or existing usernames, unknown roles,
//! missing areas. Nothing is created while any problem remains; a clean file previews, then
//! applies: each account gets a generated initial password, answered once (the app shows it and
//! offers it as a download) — only its argon2 hash is stored, and neither is ever logged.
//!
//! CSV (`csv`) or XLSX (`calamine`, the first sheet): both become the same table of text
//! cells, judged by the same `check_table`.

use crate::auth::{check_username, complete_area, hash_password, require_admin, Authed};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::store::{Store, UserRow};
use crate::AppState;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tongxin_shared::case::Level;
use tongxin_shared::userimport::{
    codes, parse_role, problem, CreatedUser, UserImportProblem, UserImportReport,
    UserImportRequest, UserImportRow, COLUMNS, MAX_DISPLAY_NAME_CHARS, MAX_IMPORT_CSV_BYTES,
    MAX_IMPORT_USERS,
};
use tongxin_shared::{Collection, RecordId};

/// Largest request body (the CSV inside JSON).
pub const MAX_IMPORT_BODY_BYTES: usize = MAX_IMPORT_CSV_BYTES * 2;

/// The hierarchy by code: what a file's codes may name.
#[derive(Debug, Default)]
pub struct Codes {
    pub grids: HashMap<String, RecordId>,
    pub communities: HashMap<String, RecordId>,
    pub subdistricts: HashMap<String, RecordId>,
}

impl Codes {
    async fn load(store: &dyn Store) -> Result<Self, ApiError> {
        let by_code = |records: Vec<tongxin_shared::Record>| -> HashMap<String, RecordId> {
            records
                .into_iter()
                .filter(|r| !r.is_deleted())
                .filter_map(|r| Some((r.str("code")?.trim().to_owned(), r.id)))
                .collect()
        };
        Ok(Self {
            grids: by_code(store.records(Collection::Grids).await?),
            communities: by_code(store.records(Collection::Communities).await?),
            subdistricts: by_code(store.records(Collection::Subdistricts).await?),
        })
    }
}

/// A checked row: what the file says, and the account it becomes (without a password yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub row: UserImportRow,
    pub account: UserRow,
}

/// A file as a table: its rows of text cells, and the spreadsheet row of the first (the header).
pub struct Table {
    pub first_row: usize,
    pub rows: Vec<Vec<String>>,
}

/// A CSV file as a table (the header is row 1).
pub fn csv_table(text: &str) -> Result<Table, Vec<UserImportProblem>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(r) => rows.push(r.iter().map(ToOwned::to_owned).collect()),
            Err(e) => {
                problems.push(problem(Some(i + 1), "not_csv", &[("e", e.to_string())]));
                rows.push(Vec::new());
            }
        }
    }
    if problems.is_empty() {
        Ok(Table { first_row: 1, rows })
    } else {
        Err(problems)
    }
}

/// The first sheet of an XLSX workbook as a table (numbers as they read: `101`, not `101.0`).
pub fn xlsx_table(bytes: &[u8]) -> Result<Table, Vec<UserImportProblem>> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable = |e: String| vec![problem(None, "not_xlsx", &[("e", e)])];
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| vec![problem(None, "empty", &[])])?
        .map_err(|e| unreadable(e.to_string()))?;
    let first_row = range.start().map_or(1, |(row, _)| row as usize + 1);
    let text = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_owned(),
    };
    let rows = range.rows().map(|r| r.iter().map(text).collect()).collect();
    Ok(Table { first_row, rows })
}

/// The column of each known field in the header.
fn header_columns(header: &[String]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for (i, cell) in header.iter().enumerate() {
        let cell = cell.trim().trim_start_matches('\u{feff}').to_lowercase();
        if let Some((field, _)) = COLUMNS
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.to_lowercase() == cell))
        {
            out.entry(*field).or_insert(i);
        }
    }
    out
}

/// Checks a CSV file against the hierarchy and the usernames taken (see [`check_table`]).
pub fn check(
    text: &str,
    hierarchy: &Codes,
    taken: &dyn Fn(&str) -> bool,
) -> Result<Vec<Planned>, Vec<UserImportProblem>> {
    check_table(&csv_table(text)?, hierarchy, taken)
}

/// Checks a whole table against the hierarchy and the usernames taken: every account, or every
/// problem found (not just the first). The first row is the header.
pub fn check_table(
    table: &Table,
    hierarchy: &Codes,
    taken: &dyn Fn(&str) -> bool,
) -> Result<Vec<Planned>, Vec<UserImportProblem>> {
    let Some(header) = table.rows.first() else {
        return Err(vec![problem(None, "empty", &[])]);
    };
    let columns = header_columns(header);
    let missing: Vec<UserImportProblem> = ["username", "display_name", "role"]
        .iter()
        .filter(|c| !columns.contains_key(*c))
        .map(|c| problem(None, "missing_column", &[("column", (*c).to_owned())]))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let mut people = 0usize;
    for (i, record) in table.rows.iter().enumerate().skip(1) {
        let row = table.first_row + i;
        if record.iter().all(String::is_empty) {
            continue; // spreadsheets leave empty rows at the end
        }
        people += 1;
        let cell = |field: &str| {
            columns
                .get(field)
                .and_then(|&c| record.get(c))
                .cloned()
                .unwrap_or_default()
        };
        match check_row(row, &cell, hierarchy, taken, &mut first_row) {
            Ok(p) => planned.push(p),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if people == 0 && problems.is_empty() {
        return Err(vec![problem(None, "empty", &[])]);
    }
    if people > MAX_IMPORT_USERS {
        return Err(vec![problem(
            None,
            "too_many",
            &[
                ("n", people.to_string()),
                ("max", MAX_IMPORT_USERS.to_string()),
            ],
        )]);
    }
    if problems.is_empty() {
        Ok(planned)
    } else {
        Err(problems)
    }
}

/// The ids of `codes` in `known`, or a problem naming each unknown one.
fn resolve(
    row: usize,
    codes: &[String],
    known: &HashMap<String, RecordId>,
    unknown: &'static str,
    problems: &mut Vec<UserImportProblem>,
) -> Vec<RecordId> {
    codes
        .iter()
        .filter_map(|c| {
            let id = known.get(c).copied();
            if id.is_none() {
                problems.push(problem(Some(row), unknown, &[("code", c.clone())]));
            }
            id
        })
        .collect()
}

/// A row's username: well-formed, not on an earlier row (the first row of each is kept in
/// `first_row`), not an existing account.
fn check_new_username(
    row: usize,
    username: &str,
    taken: &dyn Fn(&str) -> bool,
    first_row: &mut HashMap<String, usize>,
) -> Result<(), UserImportProblem> {
    if check_username(username).is_err() {
        Err(problem(
            Some(row),
            "bad_username",
            &[("username", username.to_owned())],
        ))
    } else if let Some(first) = first_row.get(username) {
        Err(problem(
            Some(row),
            "duplicate_username",
            &[
                ("username", username.to_owned()),
                ("first", first.to_string()),
            ],
        ))
    } else {
        first_row.insert(username.to_owned(), row);
        if taken(username) {
            Err(problem(
                Some(row),
                "existing_username",
                &[("username", username.to_owned())],
            ))
        } else {
            Ok(())
        }
    }
}

fn check_row(
    row: usize,
    cell: &dyn Fn(&str) -> String,
    hierarchy: &Codes,
    taken: &dyn Fn(&str) -> bool,
    first_row: &mut HashMap<String, usize>,
) -> Result<Planned, Vec<UserImportProblem>> {
    let mut problems = Vec::new();
    let username = cell("username");
    if let Err(p) = check_new_username(row, &username, taken, first_row) {
        problems.push(p);
    }
    let mut display_name = cell("display_name");
    if display_name.is_empty() {
        display_name.clone_from(&username);
    }
    if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        problems.push(problem(
            Some(row),
            "long_name",
            &[("max", MAX_DISPLAY_NAME_CHARS.to_string())],
        ));
    }
    let role_cell = cell("role");
    let Some(role) = parse_role(&role_cell) else {
        problems.push(problem(Some(row), "bad_role", &[("role", role_cell)]));
        return Err(problems);
    };
    // A person's area is the column of their level; the levels above follow from it.
    let (column, known, unknown, what) = match role.level() {
        Level::Grid => (
            "grids",
            &hierarchy.grids,
            "unknown_grid",
            "at least one grid",
        ),
        Level::Community => (
            "communities",
            &hierarchy.communities,
            "unknown_community",
            "a community",
        ),
        Level::Subdistrict => (
            "subdistricts",
            &hierarchy.subdistricts,
            "unknown_subdistrict",
            "a subdistrict",
        ),
        Level::City => ("", &hierarchy.grids, "", ""),
    };
    let area_codes = if column.is_empty() {
        Vec::new()
    } else {
        codes(&cell(column))
    };
    let ids = resolve(row, &area_codes, known, unknown, &mut problems);
    if !column.is_empty() && area_codes.is_empty() {
        problems.push(problem(
            Some(row),
            "missing_area",
            &[
                ("role", role.as_str().to_owned()),
                ("what", what.to_owned()),
            ],
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = UserImportRow {
        row,
        username: username.clone(),
        display_name: display_name.clone(),
        role,
        grids: Vec::new(),
        communities: Vec::new(),
        subdistricts: Vec::new(),
    };
    let mut account = UserRow {
        username,
        display_name,
        role,
        grids: Vec::new(),
        communities: Vec::new(),
        subdistricts: Vec::new(),
        password_hash: String::new(),
        disabled: false,
    };
    match role.level() {
        Level::Grid => (out.grids, account.grids) = (area_codes, ids),
        Level::Community => (out.communities, account.communities) = (area_codes, ids),
        Level::Subdistrict => (out.subdistricts, account.subdistricts) = (area_codes, ids),
        Level::City => {}
    }
    Ok(Planned { row: out, account })
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Length of a generated password (55^12 ≈ 2^69).
const PASSWORD_CHARS: usize = 12;

/// A random initial password from the OS's generator (rejection sampling: no bias).
pub fn generate_password() -> String {
    let limit = 256 - 256 % PASSWORD_ALPHABET.len();
    let mut out = String::with_capacity(PASSWORD_CHARS);
    let mut buf = [0u8; 32];
    while out.len() < PASSWORD_CHARS {
        OsRng.fill_bytes(&mut buf);
        for &b in &buf {
            if usize::from(b) < limit && out.len() < PASSWORD_CHARS {
                out.push(char::from(
                    PASSWORD_ALPHABET[usize::from(b) % PASSWORD_ALPHABET.len()],
                ));
            }
        }
    }
    out
}

fn refused(problems: Vec<UserImportProblem>) -> Response {
    tracing::info!(problems = problems.len(), "user import refused");
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(UserImportReport {
            problems,
            ..UserImportReport::default()
        }),
    )
        .into_response()
}

/// The request's file as a table: the XLSX (base64) when given, else the CSV text; too large
/// or not base64 is an error, a file that does not read is its problems.
async fn read_table(
    req: &UserImportRequest,
) -> Result<Result<Table, Vec<UserImportProblem>>, ApiError> {
    let too_large = || {
        ApiError::TooLarge(format!(
            "the file is larger than {MAX_IMPORT_CSV_BYTES} bytes"
        ))
    };
    Ok(match &req.xlsx_base64 {
        Some(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    ApiError::bad("bad_base64", format!("xlsx_base64 is not base64: {e}"))
                })?;
            if bytes.len() > MAX_IMPORT_CSV_BYTES {
                return Err(too_large());
            }
            tokio::task::spawn_blocking(move || xlsx_table(&bytes))
                .await
                .map_err(|e| ApiError::Unavailable(format!("the file check failed: {e}")))?
        }
        None if req.csv.len() > MAX_IMPORT_CSV_BYTES => return Err(too_large()),
        None => csv_table(&req.csv),
    })
}

/// `POST /api/v1/admin/import/users`: 200 with the preview, 201 with the created accounts and
/// their passwords, 422 with every problem (nothing created), 403 for anyone but an admin.
#[tracing::instrument(skip_all)]
pub async fn import_users(
    State(state): State<AppState>,
    authed: Authed,
    AppJson(req): AppJson<UserImportRequest>,
) -> Result<Response, ApiError> {
    require_admin(&authed)?;
    let table = match read_table(&req).await? {
        Ok(t) => t,
        Err(problems) => return Ok(refused(problems)),
    };
    let hierarchy = Codes::load(&*state.store).await?;
    let taken: BTreeSet<String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    let planned = match check_table(&table, &hierarchy, &|u| taken.contains(u)) {
        Ok(p) => p,
        Err(problems) => return Ok(refused(problems)),
    };
    let rows: Vec<UserImportRow> = planned.iter().map(|p| p.row.clone()).collect();
    if !req.apply {
        return Ok(Json(UserImportReport {
            rows,
            ..UserImportReport::default()
        })
        .into_response());
    }
    let mut accounts = Vec::with_capacity(planned.len());
    let mut passwords = Vec::with_capacity(planned.len());
    for p in planned {
        let mut account = p.account;
        // The same completion and checks as one account created by hand.
        complete_area(&*state.store, &mut account).await?;
        passwords.push(generate_password());
        accounts.push(account);
    }
    let to_hash = passwords.clone();
    let hashes = tokio::task::spawn_blocking(move || {
        to_hash
            .iter()
            .map(|p| hash_password(p.as_str()))
            .collect::<Result<Vec<String>, ApiError>>()
    })
    .await
    .map_err(|_| ApiError::Unavailable("password hashing was interrupted".into()))??;
    for (account, hash) in accounts.iter_mut().zip(hashes) {
        account.password_hash = hash;
    }
    let inserted = state.store.insert_users(&accounts, crate::now_ms()).await?;
    let mut created = Vec::with_capacity(accounts.len());
    let mut problems = Vec::new();
    for ((account, password), row) in accounts.iter().zip(passwords).zip(&rows) {
        // A name taken between the check and the insert keeps its other owner (the insert
        // skips it): only accounts stored with this import's hash were created.
        let ours = inserted == accounts.len() as u64
            || state
                .store
                .user(&account.username)
                .await?
                .is_some_and(|u| u.password_hash == account.password_hash);
        if ours {
            created.push(CreatedUser {
                username: account.username.clone(),
                display_name: account.display_name.clone(),
                password,
            });
        } else {
            problems.push(problem(
                Some(row.row),
                "taken",
                &[("username", account.username.clone())],
            ));
        }
    }
    tracing::info!(
        created = created.len(),
        taken = problems.len(),
        "user import applied"
    );
    Ok((
        StatusCode::CREATED,
        Json(UserImportReport {
            problems,
            rows,
            created,
            applied: true,
        }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongxin_shared::case::Role;
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    fn codes() -> Codes {
        Codes {
            grids: [("G1".to_owned(), id(1)), ("G2".to_owned(), id(2))].into(),
            communities: [("C1".to_owned(), id(10))].into(),
            subdistricts: [("S1".to_owned(), id(100))].into(),
        }
    }

    #[test]
    fn a_clean_file_plans_every_account_with_its_area() {
        let text = "\u{feff}用户名,姓名,角色,网格编码,社区编码\n\
                    w1,张三,网格员,G1;G2,\n\
                    c1,李四,community_manager,,C1\n\
                    ,,,,\n";
        let planned = check(text, &codes(), &|_| false).unwrap();
        assert_eq!(planned.len(), 2, "the empty row is skipped");
        assert_eq!(planned[0].row.row, 2, "the header is row 1");
        assert_eq!(planned[0].account.grids, [id(1), id(2)]);
        assert_eq!(planned[0].account.display_name, "张三");
        assert_eq!(planned[1].account.role, Role::CommunityManager);
        assert_eq!(planned[1].account.communities, [id(10)]);
        assert_eq!(planned[1].row.communities, ["C1"]);
    }

    #[test]
    fn every_bad_row_is_named_by_its_row_and_nothing_is_planned() {
        let text = "username,display_name,role,grids\n\
                    w1,A,warden,G1\n\
                    w1,B,warden,G2\n\
                    w3,C,boss,G1\n\
                    w4,D,warden,G9\n\
                    old,E,warden,G1\n\
                    w 6,F,warden,G1\n\
                    w7,G,warden,\n";
        let problems = check(text, &codes(), &|u| u == "old").unwrap_err();
        let got: Vec<(Option<usize>, &str)> =
            problems.iter().map(|p| (p.row, p.code.as_str())).collect();
        assert_eq!(
            got,
            [
                (Some(3), "duplicate_username"),
                (Some(4), "bad_role"),
                (Some(5), "unknown_grid"),
                (Some(6), "existing_username"),
                (Some(7), "bad_username"),
                (Some(8), "missing_area"),
            ]
        );
        assert_eq!(
            problems[0].message,
            "the username 'w1' is used in row 2 too"
        );
        assert_eq!(problems[2].message, "there is no grid with the code 'G9'");
    }

    #[test]
    fn a_file_without_the_needed_columns_or_people_is_refused() {
        let p = check("name,grids\nA,G1\n", &codes(), &|_| false).unwrap_err();
        let missing: Vec<&str> = p.iter().map(|p| p.args["column"].as_str()).collect();
        assert_eq!(missing, ["username", "role"]);
        let p = check("username,name,role\n", &codes(), &|_| false).unwrap_err();
        assert_eq!(p[0].code, "empty");
    }

    #[test]
    fn generated_passwords_are_long_random_and_unambiguous() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.chars().count(), PASSWORD_CHARS);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }
}
