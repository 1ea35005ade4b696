//! Whom a case may be assigned to (受理派单): the candidates the picker (`ui::assignee_picker`)
//! offers — the wardens and grid leaders of the case's grid, the managers of its community, the
//! units paired with it — chosen by the policy's own test (`shared::policy::assign::works_at`).

use crate::i18n::{tr, Lang};
use crate::people::Directory;
use std::collections::HashMap;
use tongxin_shared::case::Role;
use tongxin_shared::policy::assign::{self, Assignable};
use tongxin_shared::policy::handback;
use tongxin_shared::wire::StaffMember;
use tongxin_shared::Record;

/// Someone the case may be assigned to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The `assignee` value: a username, or `unit:<id>`.
    pub value: String,
    pub name: String,
    /// A person's role; `None` for a unit.
    pub role: Option<Role>,
}

impl Candidate {
    /// The tag shown beside the name: the person's role, or "alliance unit".
    pub fn kind(&self, lang: Lang) -> String {
        self.role.map_or_else(
            || tr(lang, "assign.unit"),
            |r| tr(lang, &format!("role.{}", r.as_str())),
        )
    }

    /// Whether the search text finds this candidate (name or value, case-folded).
    pub fn matches(&self, text: &str) -> bool {
        let text = text.trim().to_lowercase();
        text.is_empty()
            || self.name.to_lowercase().contains(&text)
            || self.value.to_lowercase().contains(&text)
    }
}

/// The candidates for a case at `place`: staff who work its grid, managers of its community,
/// units paired with its community (by the policy's own test), people first, each group by name.
pub fn candidates(
    staff: &[StaffMember],
    units: &[Record],
    alliances: &[Record],
    place: &tongxin_shared::authz::Place,
) -> Vec<Candidate> {
    let mut people: Vec<Candidate> = staff
        .iter()
        .filter(|m| {
            assign::works_at(
                &Assignable::Person {
                    role: m.role,
                    grids: m.grids.clone(),
                    communities: m.communities.clone(),
                },
                place,
            )
        })
        .map(|m| Candidate {
            value: m.username.clone(),
            name: m.display_name.clone(),
            role: Some(m.role),
        })
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    let pairings = assign::unit_pairings(alliances);
    let mut paired: Vec<Candidate> = units
        .iter()
        .filter(|u| !u.is_deleted())
        .filter(|u| {
            assign::works_at(
                &Assignable::Unit {
                    communities: pairings.get(&u.id).cloned().unwrap_or_default(),
                },
                place,
            )
        })
        .map(|u| Candidate {
            value: assign::unit_value(u.id),
            name: u.str("name").unwrap_or_default().to_owned(),
            role: None,
        })
        .collect();
    paired.sort_by(|a, b| a.name.cmp(&b.name));
    people.extend(paired);
    people
}

/// Who a case is (re)assigned to, by the value its `assignee` or a timeline entry holds: people
/// by the directory on the device, alliance units (`unit:<id>`) by their records; the value
/// itself for someone or something the device does not know (nothing hidden).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssigneeNames {
    pub people: Directory,
    units: HashMap<String, String>,
}

impl AssigneeNames {
    pub fn new(people: Directory, units: &[Record]) -> Self {
        let units = units
            .iter()
            .filter(|u| !u.is_deleted())
            .filter_map(|u| Some((assign::unit_value(u.id), u.str("name")?.to_owned())))
            .collect();
        Self { people, units }
    }

    pub fn name(&self, value: &str) -> String {
        match assign::parse(value) {
            Some(assign::AssigneeRef::Person(p)) => self.people.name(p).to_owned(),
            Some(assign::AssigneeRef::Unit(_)) | None => self
                .units
                .get(value)
                .cloned()
                .unwrap_or_else(|| value.to_owned()),
        }
    }
}

/// The assignee a timeline entry hands the case to (改派: `policy::actions::reassign` writes
/// it on a note), if it names one.
pub fn reassigned_to(entry: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    entry
        .get("assignee")
        .and_then(serde_json::Value::as_str)
        .filter(|a| !a.is_empty())
}

/// Whom a hand-back entry took the case from (退回待派: the server's
/// `policy::handback::handback_ops` writes it when they no longer work where the case sits).
pub fn handed_back_from(entry: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    (entry.get("action").and_then(serde_json::Value::as_str) == Some(handback::UNASSIGN))
        .then(|| entry.get("former").and_then(serde_json::Value::as_str))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;
    use tongxin_shared::authz::Place;
    use tongxin_shared::{Collection, FieldValue, Hlc, RecordId, Stamp};
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    fn record(c: Collection, n: u128, fields: serde_json::Value) -> Record {
        let stamp = Stamp {
            hlc: Hlc::new(1, 0),
            actor: tongxin_shared::ActorId(Uuid::from_u128(1)),
        };
        let mut r = Record::new(c, id(n));
        let serde_json::Value::Object(m) = fields else {
            panic!("fields")
        };
        r.fields = m
            .into_iter()
            .map(|(k, value)| (k, FieldValue { value, stamp }))
            .collect::<BTreeMap<_, _>>();
        r
    }

    #[test]
    fn candidates_are_the_grids_staff_and_the_communitys_units() {
        let place = Place {
            subdistrict: Some(id(1)),
            community: Some(id(10)),
            grid: Some(id(100)),
        };
        let staff = |u: &str, role, g: u128| StaffMember {
            username: u.into(),
            display_name: format!("{u} name"),
            role,
            grids: vec![id(g)],
            communities: Vec::new(),
        };
        let manager = |u: &str, c: u128| StaffMember {
            username: u.into(),
            display_name: format!("{u} name"),
            role: Role::CommunityManager,
            grids: Vec::new(),
            communities: vec![id(c)],
        };
        let list = candidates(
            &[
                staff("wb", Role::Warden, 101),
                staff("wa", Role::Warden, 100),
                staff("gl", Role::GridLeader, 100),
                manager("cm", 10),
                manager("cx", 11),
            ],
            &[
                record(Collection::Units, 50, json!({"name": "医院"})),
                record(Collection::Units, 51, json!({"name": "学校"})),
            ],
            &[record(
                Collection::Alliances,
                60,
                json!({"community": id(10).to_string(), "unit": id(50).to_string()}),
            )],
            &place,
        );
        let values: Vec<&str> = list.iter().map(|c| c.value.as_str()).collect();
        let unit = assign::unit_value(id(50));
        assert_eq!(
            values,
            vec!["cm", "gl", "wa", unit.as_str()],
            "the community's manager too, not another community's"
        );
        assert!(list[2].matches("WA"));
        assert!(!list[2].matches("医院"));
        assert!(list[3].matches("医院"));
        assert_eq!(list[0].role, Some(Role::CommunityManager));
    }

    #[test]
    fn a_reassignment_names_the_person_or_unit() {
        let people = Directory::new(&[tongxin_shared::wire::Person {
            username: "wb".into(),
            display_name: "网格员乙".into(),
            role: Role::Warden,
        }]);
        let names = AssigneeNames::new(
            people,
            &[record(Collection::Units, 50, json!({"name": "医院"}))],
        );
        let unit = assign::unit_value(id(50));
        assert_eq!(names.name("wb"), "网格员乙");
        assert_eq!(names.name(&unit), "医院");
        assert_eq!(
            names.name("ghost"),
            "ghost",
            "unknown people keep their login"
        );
        let other = assign::unit_value(id(51));
        assert_eq!(names.name(&other), other);
        let entry = tongxin_shared::policy::actions::reassign(
            &record(Collection::Cases, 1, json!({"status": "accepted"})),
            "cm",
            &unit,
            "",
            Uuid::from_u128(9),
        );
        let tongxin_shared::OpBody::Append { entry } = &entry[1] else {
            panic!("the timeline entry")
        };
        assert_eq!(reassigned_to(&entry.data), Some(unit.as_str()));
        assert_eq!(reassigned_to(&serde_json::Map::new()), None);
    }

    #[test]
    fn a_hand_back_names_whom_the_case_was_taken_from() {
        let case = record(
            Collection::Cases,
            1,
            json!({"status": "accepted", "assignee": "wa"}),
        );
        let ops = handback::handback_ops(&case, 5);
        let tongxin_shared::OpBody::Append { entry } = &ops[1].body else {
            panic!("the timeline entry")
        };
        assert_eq!(handed_back_from(&entry.data), Some("wa"));
        assert_eq!(reassigned_to(&entry.data), None, "not a reassignment");
        let mut note = entry.data.clone();
        note.insert("action".into(), json!("note"));
        assert_eq!(handed_back_from(&note), None);
    }
}
