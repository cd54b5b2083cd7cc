//! Sensors whose source said it is gone (a Sparkplug `NDEATH` or `DDEATH`,
//! an `offline` message from a producer), until they report again. Viewers
//! hear of it in the stream; one that joins later is told in its greeting,
//! so a kiosk that reconnects greys them at once instead of after the stale
//! limit.

use std::collections::BTreeMap;

use linetwin_core::protocol::TextMessage;

#[derive(Debug, Clone, PartialEq)]
struct Since {
    t: f64,
    reason: String,
}

#[derive(Debug, Default)]
pub(crate) struct OfflineSensors(BTreeMap<String, Since>);

impl OfflineSensors {
    pub(crate) fn went_offline(&mut self, t: f64, sensors: &[String], reason: &str) {
        for sensor in sensors {
            self.0.insert(
                sensor.clone(),
                Since {
                    t,
                    reason: reason.to_owned(),
                },
            );
        }
    }

    /// Data of these sensors at these times: data stamped after the death
    /// brings a sensor back (older data arriving late does not, as in the
    /// twin).
    pub(crate) fn reported(&mut self, stamps: &[(String, f64)]) {
        if self.0.is_empty() {
            return;
        }
        for (sensor, t) in stamps {
            if self.0.get(sensor).is_some_and(|since| *t >= since.t) {
                self.0.remove(sensor);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// One `offline` message per moment and reason, as they were announced.
    pub(crate) fn messages(&self) -> Vec<TextMessage> {
        let mut grouped: BTreeMap<(u64, &str), Vec<String>> = BTreeMap::new();
        for (sensor, since) in &self.0 {
            grouped
                .entry((since.t.to_bits(), since.reason.as_str()))
                .or_default()
                .push(sensor.clone());
        }
        let mut messages: Vec<(f64, TextMessage)> = grouped
            .into_iter()
            .map(|((t, reason), sensors)| {
                let t = f64::from_bits(t);
                let message = TextMessage::Offline {
                    t,
                    sensors,
                    reason: reason.to_owned(),
                };
                (t, message)
            })
            .collect();
        messages.sort_by(|a, b| a.0.total_cmp(&b.0));
        messages.into_iter().map(|(_, m)| m).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_sensor_stays_offline_until_it_reports() {
        let mut offline = OfflineSensors::default();
        offline.went_offline(10.0, &ids(&["A-V", "A-T"]), "node a offline");
        offline.reported(&[("B-T".into(), 11.0)]);
        assert_eq!(offline.len(), 2);
        offline.reported(&[("A-T".into(), 9.0)]);
        assert_eq!(offline.len(), 2, "data from before the death came late");
        offline.reported(&[("A-T".into(), 10.0)]);
        assert_eq!(
            offline.messages(),
            vec![TextMessage::Offline {
                t: 10.0,
                sensors: ids(&["A-V"]),
                reason: "node a offline".into(),
            }]
        );
    }

    #[test]
    fn a_later_death_replaces_the_reason() {
        let mut offline = OfflineSensors::default();
        offline.went_offline(10.0, &ids(&["A-V", "A-T"]), "device d1 of node a offline");
        offline.went_offline(20.0, &ids(&["A-V", "B-V"]), "node a offline");
        assert_eq!(
            offline.messages(),
            vec![
                TextMessage::Offline {
                    t: 10.0,
                    sensors: ids(&["A-T"]),
                    reason: "device d1 of node a offline".into(),
                },
                TextMessage::Offline {
                    t: 20.0,
                    sensors: ids(&["A-V", "B-V"]),
                    reason: "node a offline".into(),
                },
            ]
        );
    }
}
