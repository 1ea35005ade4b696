//! The people directory and the bulk user import over real HTTP, on SQLite and PostgreSQL:
//! `GET /api/v1/people` lists the colleagues of the caller's area (names, never hashes; disabled
//! accounts left out; a phone number typed into a name redacted); `POST /api/v1/admin/import/users`
//! (CSV or XLSX) names every bad row by its spreadsheet row, creates nothing until the file is
//! clean, then creates the accounts with generated passwords that sign in, and is refused to
//! anyone but an administrator.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use tongxin_shared::{Collection, Hlc};

async fn status(res: reqwest::Response) -> (u16, Value) {
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

/// The small city with codes: subdistrict S1, communities C1 and C2, grids G1, G2 (C1), G3 (C2).
async fn coded_city(app: &TestApp) {
    small_city(app).await;
    let t = now_ms() + 10;
    let code = |op: u128, c: Collection, id: u128, code: &str, n: u32| {
        set(c, op, id, Hlc::new(t, n), json!({ "code": code }))
    };
    let ops = vec![
        code(0x101, Collection::Subdistricts, SD, "S1", 1),
        code(0x102, Collection::Communities, C1, "C1", 2),
        code(0x103, Collection::Communities, C2, "C2", 3),
        code(0x104, Collection::Grids, G1, "G1", 4),
        code(0x105, Collection::Grids, G2, "G2", 5),
        code(0x106, Collection::Grids, G3, "G3", 6),
    ];
    assert_all_acked(&app.push(&ops).await);
}

async fn people_of(app: &TestApp, client: &reqwest::Client) -> Vec<(String, String)> {
    let (s, body) = status(
        client
            .get(format!("{}/api/v1/people", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(
        !body.to_string().contains("argon2"),
        "no password hash: {body}"
    );
    body.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["username"].as_str().unwrap().to_owned(),
                p["display_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn rename(
    app: &TestApp,
    username: &str,
    role: &str,
    area: Value,
    name: &str,
    disabled: bool,
) {
    let mut body =
        json!({"username": username, "display_name": name, "role": role, "disabled": disabled});
    if let (Value::Object(b), Value::Object(a)) = (&mut body, area) {
        b.extend(a);
    }
    let res = app
        .client
        .put(format!("{}/api/v1/admin/users/{username}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn the_directory_lists_the_colleagues_of_the_area(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    coded_city(&app).await;
    let (w1, _) = app.user("w1", "warden", json!({"grids": [rid(G1)]})).await;
    app.user("w2", "warden", json!({"grids": [rid(G2)]})).await;
    app.user("w3", "warden", json!({"grids": [rid(G3)]})).await;
    let (cm, _) = app
        .user("cm", "community_manager", json!({"communities": [rid(C1)]}))
        .await;
    app.user(
        "cm2",
        "community_manager",
        json!({"communities": [rid(C2)]}),
    )
    .await;
    app.user(
        "sd",
        "subdistrict_manager",
        json!({"subdistricts": [rid(SD)]}),
    )
    .await;
    let (city, _) = app.user("boss", "city_manager", json!({})).await;
    rename(
        &app,
        "w1",
        "warden",
        json!({"grids": [rid(G1)]}),
        "张三",
        false,
    )
    .await;
    rename(
        &app,
        "w2",
        "warden",
        json!({"grids": [rid(G2)]}),
        "李四 13812345678",
        false,
    )
    .await;
    app.user("gone", "warden", json!({"grids": [rid(G1)]}))
        .await;
    rename(
        &app,
        "gone",
        "warden",
        json!({"grids": [rid(G1)]}),
        "gone",
        true,
    )
    .await;

    let names = |list: &[(String, String)]| list.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
    let warden_sees = people_of(&app, &w1).await;
    assert_eq!(
        names(&warden_sees),
        ["boss", "cm", "root", "sd", "w1", "w2"],
        "their community's wardens and manager, the subdistrict and city levels; not C2, not disabled"
    );
    assert!(warden_sees.contains(&("w1".into(), "张三".into())));
    let w2 = warden_sees.iter().find(|p| p.0 == "w2").unwrap();
    assert!(
        w2.1.starts_with("李四") && !w2.1.contains("13812345678"),
        "{w2:?}"
    );
    assert_eq!(
        names(&people_of(&app, &cm).await),
        ["boss", "cm", "root", "sd", "w1", "w2"]
    );
    assert_eq!(
        names(&people_of(&app, &city).await),
        ["boss", "cm", "cm2", "root", "sd", "w1", "w2", "w3"]
    );
    let res = reqwest::get(format!("{}/api/v1/people", app.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn post_import(
    app: &TestApp,
    client: &reqwest::Client,
    csv: &str,
    apply: bool,
) -> (u16, Value) {
    status(
        client
            .post(format!("{}/api/v1/admin/import/users", app.base))
            .json(&json!({"csv": csv, "apply": apply}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn usernames(app: &TestApp) -> Vec<String> {
    let (s, body) = status(
        app.client
            .get(format!("{}/api/v1/admin/users?limit=500", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_bulk_import_names_each_bad_row_then_creates_every_account(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    coded_city(&app).await;
    let before = usernames(&app).await;
    let bad = "用户名,姓名,角色,网格编码,社区编码\n\
               wa,网格员甲,网格员,G1,\n\
               wb,网格员乙,warden,G9,\n\
               root,重名,warden,G2,\n\
               cx,社区,社区管理员,,C1\n\
               wd,某人,boss,G1,\n";
    let (s, report) = post_import(&app, &app.client, bad, true).await;
    assert_eq!(s, 422, "{report}");
    let rows: Vec<(u64, &str)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["row"].as_u64().unwrap(), p["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            (3, "unknown_grid"),
            (4, "existing_username"),
            (6, "bad_role")
        ],
        "{report}"
    );
    assert_eq!(usernames(&app).await, before, "nothing created");

    let good = "用户名,姓名,角色,网格编码,社区编码\n\
                wa,网格员甲,网格员,G1,\n\
                wb,网格员乙,warden,G2;G3,\n\
                cx,社区,社区管理员,,C1\n";
    let (s, preview) = post_import(&app, &app.client, good, false).await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["rows"].as_array().unwrap().len(), 3);
    assert_eq!(preview["created"], json!([]));
    assert_eq!(usernames(&app).await, before, "a preview creates nothing");

    let (s, done) = post_import(&app, &app.client, good, true).await;
    assert_eq!(s, 201, "{done}");
    let created = done["created"].as_array().unwrap();
    assert_eq!(created.len(), 3);
    let mut passwords = std::collections::BTreeSet::new();
    for c in created {
        let (user, password) = (
            c["username"].as_str().unwrap(),
            c["password"].as_str().unwrap(),
        );
        assert!(password.chars().count() >= 12);
        passwords.insert(password.to_owned());
        // The generated password signs in, and the account has its area.
        let client = client_with(&login_token(&app.base, user, password).await);
        let (s, me) = status(
            client
                .get(format!("{}/api/v1/auth/me", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200);
        match user {
            "wb" => {
                assert_eq!(me["grids"], json!([rid(G2), rid(G3)]));
                assert_eq!(me["display_name"], "网格员乙");
            }
            "cx" => assert_eq!(me["communities"], json!([rid(C1)])),
            _ => assert_eq!(me["subdistricts"], json!([rid(SD)]), "completed upwards"),
        }
    }
    assert_eq!(passwords.len(), 3, "one password each");

    // The same file again: every name now exists.
    let (s, again) = post_import(&app, &app.client, good, true).await;
    assert_eq!(s, 422);
    assert_eq!(again["problems"].as_array().unwrap().len(), 3, "{again}");

    // Only an administrator may import.
    let (w, _) = app.user("w-x", "warden", json!({"grids": [rid(G1)]})).await;
    let (s, body) = post_import(&app, &w, "username,name,role\nzz,Z,warden\n", true).await;
    assert_eq!(s, 403, "{body}");
    // Not a body the API reads.
    let (s, body) = status(
        app.client
            .post(format!("{}/api/v1/admin/import/users", app.base))
            .json(&json!({"csv": 5}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400, "{body}");
}

/// A one-sheet XLSX workbook (stored zip entries, inline strings; numbers as numbers), as a
/// spreadsheet program writes the parts calamine reads.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let col = |i: usize| char::from(b'A' + i as u8);
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, cells) in rows.iter().enumerate() {
        write!(sheet, r#"<row r="{}">"#, r + 1).unwrap();
        for (c, v) in cells.iter().enumerate() {
            let at = format!("{}{}", col(c), r + 1);
            if !v.is_empty() && v.chars().all(|ch| ch.is_ascii_digit()) {
                write!(sheet, r#"<c r="{at}"><v>{v}</v></c>"#).unwrap();
            } else {
                write!(
                    sheet,
                    r#"<c r="{at}" t="inlineStr"><is><t>{v}</t></is></c>"#
                )
                .unwrap();
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The same import from an XLSX workbook: bad rows by their sheet row, numbers read as
/// written (a numeric username stays `1001`), then created.
async fn a_bulk_import_reads_an_xlsx_workbook(db: TestDb) {
    use base64::Engine;
    let app = TestApp::spawn(&db.url).await;
    coded_city(&app).await;
    let b64 = |rows: &[&[&str]]| base64::engine::general_purpose::STANDARD.encode(xlsx(rows));
    let header: &[&str] = &["用户名", "姓名", "角色", "网格编码"];
    let send = |body: Value| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/admin/import/users", app.base);
        async move { status(client.post(url).json(&body).send().await.unwrap()).await }
    };
    let bad = b64(&[
        header,
        &["1001", "甲", "网格员", "G1"],
        &["x2", "乙", "网格员", "G9"],
    ]);
    let (s, report) = send(json!({"xlsx_base64": bad, "apply": true})).await;
    assert_eq!(s, 422, "{report}");
    assert_eq!(report["problems"][0]["row"], 3, "{report}");
    assert_eq!(report["problems"][0]["code"], "unknown_grid");

    let good = b64(&[
        header,
        &["1001", "甲", "网格员", "G1"],
        &["x2", "乙", "网格员", "G2"],
    ]);
    let (s, done) = send(json!({"xlsx_base64": good, "apply": true})).await;
    assert_eq!(s, 201, "{done}");
    let names: Vec<&str> = done["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["1001", "x2"]);

    let (s, body) = send(json!({"xlsx_base64": "not a workbook", "apply": false})).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = send(json!({"xlsx_base64": base64::engine::general_purpose::STANDARD.encode(b"PK not a zip"), "apply": false})).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["problems"][0]["code"], "not_xlsx");
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::sqlite().await).await } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { super::$name(TestDb::postgres().await).await } )* }
    };
}

both_backends!(
    the_directory_lists_the_colleagues_of_the_area,
    a_bulk_import_names_each_bad_row_then_creates_every_account,
    a_bulk_import_reads_an_xlsx_workbook,
);
