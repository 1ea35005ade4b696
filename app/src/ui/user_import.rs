//! The admin's bulk import of users from a CSV or XLSX file tied to grid (community, subdistrict) codes:
//! choose the file, check it (the server answers the preview or every problem with its row, as
//! a spreadsheet numbers rows: the header is row 1), then create. The generated initial
//! passwords are shown once, on this screen only, and offered as a CSV download; they are never
//! stored on the device.

use super::admin::token;
use super::browser::download;
use super::context::{ctx, t, Ctx};
use super::format::role_label;
use crate::api::{self, ApiError};
use crate::i18n::{tr, trf, Lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::userimport::{
    CreatedUser, UserImportProblem, UserImportReport, UserImportRequest, UserImportRow,
};

/// A template with the columns the server reads (Chinese headers; English ones work too).
const TEMPLATE: &str = "用户名,姓名,角色,网格编码,社区编码,街道编码\nw0001,张三,网格员,G0101,,\nc0001,李四,社区管理员,,C01,\n";

/// The chosen file as the request carries it: a CSV's text, or an XLSX workbook in base64.
#[derive(Clone, Debug, Default)]
struct Upload {
    csv: String,
    xlsx_base64: Option<String>,
}

/// Reads a chosen file: an `.xlsx` as bytes, anything else as text.
async fn read_upload(file: web_sys::File) -> Result<Upload, String> {
    use base64::Engine;
    use wasm_bindgen_futures::JsFuture;
    if file.name().to_lowercase().ends_with(".xlsx") {
        let buf = JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| format!("{e:?}"))?;
        let bytes = js_sys::Uint8Array::new(&buf).to_vec();
        return Ok(Upload {
            csv: String::new(),
            xlsx_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        });
    }
    let text = JsFuture::from(file.text())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let csv = text
        .as_string()
        .ok_or_else(|| "the file is not text".to_owned())?;
    Ok(Upload {
        csv,
        xlsx_base64: None,
    })
}

/// A problem in the user's language, with its row.
fn problem_text(lang: Lang, p: &UserImportProblem) -> String {
    let key = format!("users_import.why.{}", p.code);
    let template = tr(lang, &key);
    let m = if p.code.is_empty() || template == key {
        p.message.clone()
    } else {
        tongxin_shared::problem_text::fill(&template, &p.args)
    };
    match p.row {
        Some(row) => trf(
            lang,
            "users_import.at_row",
            &[("row", &row.to_string()), ("m", &m)],
        ),
        None => m,
    }
}

/// The created accounts and their passwords as CSV (for handing them out).
fn passwords_csv(lang: Lang, created: &[CreatedUser]) -> String {
    let mut out = String::from(crate::csv::BOM);
    crate::csv::push_row(
        &mut out,
        &[
            tr(lang, "auth.username"),
            tr(lang, "admin.display_name"),
            tr(lang, "users_import.password"),
        ],
    );
    for c in created {
        crate::csv::push_row(
            &mut out,
            &[
                c.username.clone(),
                c.display_name.clone(),
                c.password.clone(),
            ],
        );
    }
    out
}

fn preview_table(rows: Vec<UserImportRow>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let n = rows.len().to_string();
    view! {
        <table class="table" data-testid="users-import-preview" data-rows=n>
            <thead><tr>
                <th>{t("users_import.row")}</th><th>{t("auth.username")}</th><th>{t("admin.display_name")}</th>
                <th>{t("admin.role")}</th><th>{t("users_import.area")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let role = r.role;
                    let area = [r.grids, r.communities, r.subdistricts].concat().join("、");
                    view! {
                        <tr data-testid="users-import-row">
                            <td class="num">{r.row}</td><td>{r.username}</td><td>{r.display_name}</td>
                            <td>{move || role_label(lang.get(), role)}</td><td>{area}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn created_table(created: Vec<CreatedUser>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let n = created.len().to_string();
    let n_attr = n.clone();
    view! {
        <div data-testid="users-created" data-n=n_attr>
            <p class="ok" role="status">{move || trf(lang.get(), "users_import.created", &[("n", &n)])}</p>
            <p class="muted small">{t("users_import.once")}</p>
            <button type="button" class="primary" data-testid="users-passwords-download" on:click={
                let created = created.clone();
                move |_| download("initial-passwords.csv", &passwords_csv(lang.get_untracked(), &created), "text/csv;charset=utf-8")
            }>{t("users_import.download")}</button>
            <table class="table">
                <thead><tr><th>{t("auth.username")}</th><th>{t("admin.display_name")}</th><th>{t("users_import.password")}</th></tr></thead>
                <tbody>
                    {created.into_iter().map(|c| {
                        let key = c.username.clone();
                        view! {
                            <tr data-testid="users-created-row" data-username=key>
                                <td>{c.username}</td><td>{c.display_name}</td><td><code>{c.password}</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The file to the server: a preview, or (`apply`) the accounts created.
async fn send_upload(upload: Upload, apply: bool) -> Result<UserImportReport, ApiError> {
    let req = UserImportRequest {
        csv: upload.csv,
        xlsx_base64: upload.xlsx_base64,
        apply,
    };
    match token() {
        Ok(t) => api::import_users(&t, &req).await,
        Err(e) => Err(ApiError::Network(e)),
    }
}

#[component]
pub(super) fn UserImport() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let text = RwSignal::new(None::<Upload>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<UserImportProblem>::new());
    let preview = RwSignal::new(None::<Vec<UserImportRow>>);
    let created = RwSignal::new(None::<Vec<CreatedUser>>);
    let reset = move || {
        error.set(None);
        problems.set(Vec::new());
        preview.set(None);
        created.set(None);
    };
    let send = move |apply: bool| {
        let l = lang.get_untracked();
        let Some(upload) = text.get_untracked() else {
            error.set(Some(tr(l, "users_import.no_file")));
            return;
        };
        reset();
        busy.set(true);
        spawn_local(async move {
            match send_upload(upload, apply).await {
                Ok(report) if report.applied => {
                    problems.set(report.problems);
                    created.set(Some(report.created));
                }
                Ok(report) if !report.problems.is_empty() => problems.set(report.problems),
                Ok(report) => preview.set(Some(report.rows)),
                Err(ApiError::Network(e)) => {
                    error.set(Some(trf(l, "import.error.network", &[("e", &e)])));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        reset();
        text.set(None);
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        spawn_local(async move {
            match read_upload(file).await {
                Ok(s) => text.set(Some(s)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card" data-testid="users-import">
            <h2>{t("users_import.title")}</h2>
            <p class="muted small">{t("users_import.hint")}</p>
            <button type="button" class="link" data-testid="users-import-template"
                on:click=|_| download("users-template.csv", &format!("{}{TEMPLATE}", crate::csv::BOM), "text/csv;charset=utf-8")>
                {t("users_import.template")}
            </button>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); send(false); }>
                <label><span>{t("users_import.file")}</span>
                    <input name="users_csv" type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" data-testid="users-import-file" on:change=on_file/></label>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button type="submit" class="primary" data-testid="users-import-check"
                    disabled=move || busy.get() || text.with(Option::is_none)>{t("import.check")}</button>
            </form>
            <Show when=move || problems.with(|p| !p.is_empty())>
                <div role="alert" data-testid="users-import-problems">
                    <p class="field-error">{move || trf(lang.get(), "users_import.problems", &[("n", &problems.with(Vec::len).to_string())])}</p>
                    <ul class="list compact">
                        {move || problems.get().into_iter().map(|p| {
                            let row = p.row.map(|r| r.to_string()).unwrap_or_default();
                            view! { <li data-testid="users-import-problem" data-row=row>{move || problem_text(lang.get(), &p)}</li> }
                        }).collect_view()}
                    </ul>
                </div>
            </Show>
            {move || preview.get().map(|rows| {
                let n = rows.len().to_string();
                view! {
                <p role="status">{move || trf(lang.get(), "users_import.plan", &[("n", &n)])}</p>
                {preview_table(rows)}
                <button type="button" class="primary" data-testid="users-import-apply" disabled=move || busy.get()
                    on:click=move |_| send(true)>{t("users_import.apply")}</button>
                }
            })}
            {move || created.get().map(created_table)}
        </section>
    }
}
