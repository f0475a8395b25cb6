//! TEMPORARY STUB — replaced by the real parser (branch `config`). Same API.
use crate::error::Result;
pub const CONFIG_FILE_NAME: &str = "container-executor.cfg";
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
pub const MAX_LINE_BYTES: usize = 64 * 1024;
pub const NM_GROUP_KEY: &str = "yarn.nodemanager.linux-container-executor.group";
pub const DEFAULT_BANNED_USERS: [&str; 4] = ["yarn", "mapred", "hdfs", "bin"];
pub const DEFAULT_MIN_USER_ID: i32 = 1000;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, String, String)>,
    sections: Vec<String>,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Tc,
    MountCgroup,
    Terminal,
    Docker,
    YarnSysfs,
    Runc,
}
impl Feature {
    pub fn key(self) -> &'static str {
        match self {
            Feature::Tc => "feature.tc.enabled",
            Feature::MountCgroup => "feature.mount-cgroup.enabled",
            Feature::Terminal => "feature.terminal.enabled",
            Feature::Docker => "feature.docker.enabled",
            Feature::YarnSysfs => "feature.yarn.sysfs.enabled",
            Feature::Runc => "feature.runc.enabled",
        }
    }
}
impl Config {
    pub fn parse(bytes: &[u8], path: &str) -> Result<Config> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| crate::error::Error::Config(format!("{path}: not UTF-8")))?;
        let mut section = String::new();
        let mut c = Config {
            entries: vec![],
            sections: vec![],
        };
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let line = line.split('#').next().unwrap_or("");
            if line.starts_with('[') && line.ends_with(']') {
                section = line[1..line.len() - 1].to_string();
                c.sections.push(section.clone());
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let mut it = line.split('=').filter(|s| !s.is_empty());
            if let (Some(k), Some(v)) = (it.next(), it.next()) {
                c.entries
                    .push((section.clone(), k.trim().into(), v.trim().into()));
            }
        }
        if c.entries.is_empty() && c.sections.is_empty() {
            return Err(crate::error::Error::Config(format!(
                "Empty configuration file provided {path}"
            )));
        }
        Ok(c)
    }
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|e| e.2.as_str())
    }
    pub fn has_section(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
    pub fn get_list(&self, section: &str, key: &str) -> Option<Vec<String>> {
        self.get(section, key).map(|v| split_hadoop_list(v, ','))
    }
    pub fn nm_group(&self) -> Option<&str> {
        self.get("", NM_GROUP_KEY)
    }
    pub fn banned_users(&self) -> Vec<String> {
        self.get_list("", "banned.users")
            .unwrap_or_else(|| DEFAULT_BANNED_USERS.iter().map(|s| s.to_string()).collect())
    }
    pub fn allowed_system_users(&self) -> Vec<String> {
        self.get_list("", "allowed.system.users")
            .unwrap_or_default()
    }
    pub fn min_user_id(&self) -> std::result::Result<i32, String> {
        match self.get("", "min.user.id") {
            None => Ok(DEFAULT_MIN_USER_ID),
            Some(v) => v.parse().map_err(|_| v.to_string()),
        }
    }
    pub fn feature_enabled(&self, feature: Feature) -> bool {
        matches!(self.get("", feature.key()), Some("true") | Some("1"))
    }
    pub fn module_enabled(&self, section: &str) -> bool {
        self.get(section, "module.enabled") == Some("true")
    }
    pub fn docker_enabled(&self) -> bool {
        self.feature_enabled(Feature::Docker)
            || (self.has_section("docker") && self.module_enabled("docker"))
    }
    pub fn runc_enabled(&self) -> bool {
        self.feature_enabled(Feature::Runc)
            || (self.has_section("runc") && self.module_enabled("runc"))
    }
}
pub fn split_hadoop_list(value: &str, sep: char) -> Vec<String> {
    let v: Vec<String> = value
        .split(sep)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if v.is_empty() {
        vec![value.to_string()]
    } else {
        v
    }
}
