//! Invented names and texts for the demo city. None of them names a real person, unit or place.

use rand::seq::IndexedRandom;
use rand::Rng;

pub const SUBDISTRICTS: [&str; 5] = ["苍麓街道", "洱滨街道", "龙泉街道", "凤鸣镇", "玉带镇"];

const FIRST: [&str; 11] = [
    "金", "银", "玉", "明", "文", "和", "兴", "福", "康", "宁", "青",
];
const SECOND: [&str; 4] = ["花", "桥", "泉", "苑"];

/// The name of community `i` (0..44): unique.
pub fn community(i: usize) -> String {
    format!(
        "{}{}社区",
        FIRST[i % FIRST.len()],
        SECOND[(i / FIRST.len()) % SECOND.len()]
    )
}

const SURNAMES: [&str; 20] = [
    "杨", "李", "张", "王", "赵", "段", "杜", "何", "苏", "周", "陈", "刘", "罗", "施", "尹", "董",
    "马", "郭", "洪", "朱",
];
const GIVEN: [&str; 24] = [
    "秀英", "丽华", "建国", "志明", "海燕", "永红", "国华", "金凤", "春梅", "晓东", "文军", "玉兰",
    "德明", "兰芳", "子涵", "思远", "雨晴", "俊杰", "红梅", "正华", "彩云", "立新", "雪松", "洱生",
];

pub fn person(rng: &mut impl Rng) -> String {
    format!(
        "{}{}",
        SURNAMES.choose(rng).unwrap_or(&"杨"),
        GIVEN.choose(rng).unwrap_or(&"秀英")
    )
}

/// A synthetic mobile number (the 19900 prefix block is used for nothing real here).
pub fn phone(rng: &mut impl Rng) -> String {
    format!("19900{:06}", rng.random_range(0..1_000_000))
}

const COMPOUND_A: [&str; 10] = [
    "苍山", "洱海", "龙尾", "三塔", "蝴蝶", "茶花", "下关", "风月", "玉洱", "银苍",
];
const COMPOUND_B: [&str; 5] = ["小区", "花园", "家园", "雅苑", "新村"];

pub fn compound(rng: &mut impl Rng, k: usize) -> String {
    format!(
        "{}{}{}",
        COMPOUND_A.choose(rng).unwrap_or(&"苍山"),
        COMPOUND_B.choose(rng).unwrap_or(&"小区"),
        if k > 0 {
            format!("{}期", k + 1)
        } else {
            String::new()
        }
    )
}

pub fn unit(i: usize, kind: &str) -> String {
    let base = match kind {
        "agency" => "示范机关",
        "enterprise" => "示范企业",
        "school" => "示范学校",
        "hospital" => "示范医院",
        _ => "示范事业单位",
    };
    format!("{base}{:03}号(演示)", i + 1)
}

pub const VISIT_NOTES: [&str; 6] = [
    "入户走访，了解家庭近况",
    "巡查楼道消防通道",
    "走访独居老人，身体状况良好",
    "巡查小区环境卫生",
    "宣传洱海保护政策",
    "收集居民意见建议",
];

pub const APPEALS: [&str; 5] = [
    "楼道灯不亮",
    "希望增加垃圾分类点",
    "小区停车难",
    "老人希望有助餐服务",
    "雨天路面积水",
];

pub fn case_text(rng: &mut impl Rng, category: &str) -> (String, String) {
    let options: &[(&str, &str)] = match category {
        "environment" => &[
            ("垃圾清运不及时", "小区垃圾桶满溢，需加密清运"),
            ("绿化带杂草丛生", "需安排修剪"),
        ],
        "infrastructure" => &[
            ("路灯损坏", "主干道两盏路灯不亮"),
            ("路面破损", "人行道砖块松动"),
        ],
        "safety" => &[
            ("楼道堆放杂物", "占用消防通道，存在安全隐患"),
            ("电动车楼内充电", "需劝导整改"),
        ],
        "neighbour_dispute" => &[
            ("邻里噪音纠纷", "夜间噪音影响休息"),
            ("漏水纠纷", "楼上漏水至楼下"),
        ],
        "elderly_care" => &[
            ("独居老人需助餐", "希望提供助餐服务"),
            ("老人就医不便", "需要陪诊志愿者"),
        ],
        "property_management" => &[
            ("物业服务不到位", "电梯维修不及时"),
            ("无物业小区管理", "需准物业托管"),
        ],
        "erhai_protection" => &[
            ("沟渠污水直排", "需排查截污"),
            ("河道垃圾", "需清理入湖沟渠"),
        ],
        _ => &[("其他事项", "居民反映的其他问题")],
    };
    let (t, d) = options.choose(rng).copied().unwrap_or(("其他事项", ""));
    (t.to_owned(), d.to_owned())
}

pub fn activity_title(theme: &str, special: bool) -> String {
    let base = match theme {
        "health" => "卫生健康",
        "erhai_protection" => "洱海保护",
        "elderly_care" => "敬老助老",
        "party_education" => "党课学习",
        "culture" => "文化惠民",
        "volunteer" => "志愿服务",
        _ => "平安建设",
    };
    if special {
        format!("同心圆{base}专场活动")
    } else {
        format!("{base}主题活动")
    }
}

/// `YYYY-MM-DD` of a time in milliseconds (UTC+8, the city's time zone).
pub fn date(ms: u64) -> String {
    tongxin_shared::figures::date_from_days(((ms + 8 * 3_600_000) / 86_400_000) as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(1_764_000_000_000), "2025-11-25");
    }

    #[test]
    fn community_names_are_unique() {
        let names: std::collections::BTreeSet<_> = (0..44).map(super::community).collect();
        assert_eq!(names.len(), 44);
    }
}
