//! Structure-aware mutation: byte-level changes plus the tokens of the
//! format (every quoted string and bare word of the seeds: field names,
//! enum values, sensor ids, TOML keys) and numbers at their edges (NaN,
//! infinities, beyond f64 and u64, negative zero, subnormals).

use linetwin_core::rng::SplitMix64;

/// Tokens every format gets, besides those taken from its seeds.
const GENERIC_TOKENS: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "=",
    "\n",
    "null",
    "true",
    "false",
    "[[",
    "]]",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "%",
    "&",
    "+",
    "#",
    "/",
    "..",
    "\u{feff}",
    "é",
    "💥",
];

const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "1",
    "-1",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "1e309",
    "-1e309",
    "4.9e-324",
    "1e-400",
    "2147483648",
    "4294967296",
    "9007199254740993",
    "18446744073709551616",
    "-9223372036854775809",
    "0.1e+",
    "1.",
    ".5",
    "00",
    "0x10",
    "1_000",
];

const EDGE_INTEGERS: &[u64] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    u64::MAX,
    i64::MAX as u64,
    0x7fc0_0000,           // f32 NaN
    0x7f80_0000,           // f32 infinity
    0x7ff8_0000_0000_0000, // f64 NaN
];

pub struct Mutator {
    rng: SplitMix64,
    tokens: Vec<Vec<u8>>,
}

/// Quoted strings and bare words of the seeds, up to 40 bytes each.
fn tokens_of(seeds: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut tokens: Vec<Vec<u8>> = GENERIC_TOKENS
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
    for seed in seeds {
        let mut word = Vec::new();
        for &byte in seed {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'/') {
                word.push(byte);
            } else {
                if (2..=40).contains(&word.len()) {
                    tokens.push(std::mem::take(&mut word));
                }
                word.clear();
            }
        }
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

impl Mutator {
    pub fn new(seed: u64, seeds: &[Vec<u8>]) -> Self {
        Mutator {
            rng: SplitMix64::new(seed),
            tokens: tokens_of(seeds),
        }
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.rng.next_u64() % n as u64) as usize
        }
    }

    pub fn pick<'a>(&mut self, corpus: &'a [Vec<u8>]) -> &'a [u8] {
        corpus
            .get(self.below(corpus.len()))
            .map_or(&[][..], Vec::as_slice)
    }

    /// One to four stacked changes of `base` (`other` is spliced in by
    /// some), at most `max_len` bytes.
    pub fn mutate(&mut self, base: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
        let mut data = base.to_vec();
        for _ in 0..1 + self.below(4) {
            self.change(&mut data, other);
        }
        data.truncate(max_len);
        data
    }

    fn change(&mut self, data: &mut Vec<u8>, other: &[u8]) {
        let len = data.len();
        match self.below(11) {
            0 if len > 0 => {
                let at = self.below(len);
                data[at] ^= 1 << self.below(8);
            }
            1 if len > 0 => {
                let at = self.below(len);
                data[at] = b"\0\x01\x7f\x80\xff\"{}[],:-.e09\\\n "[self.below(20)];
            }
            2 => {
                let at = self.below(len + 1);
                let count = 1 + self.below(8);
                let bytes: Vec<u8> = (0..count).map(|_| self.rng.next_u64() as u8).collect();
                data.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let at = self.below(len);
                let count = 1 + self.below((len - at).min(64));
                data.drain(at..at + count);
            }
            4 if len > 0 => {
                let from = self.below(len);
                let count = 1 + self.below((len - from).min(256));
                let piece = data[from..from + count].to_vec();
                let at = self.below(len + 1);
                data.splice(at..at, piece);
            }
            5 if !other.is_empty() => {
                let keep = self.below(len + 1);
                let from = self.below(other.len());
                data.truncate(keep);
                data.extend_from_slice(&other[from..]);
            }
            6 if len > 0 => data.truncate(self.below(len)),
            7 => self.replace_number(data),
            8 if len > 0 => {
                let width = [1, 2, 4, 8][self.below(4)];
                let at = self.below(len);
                let value = EDGE_INTEGERS[self.below(EDGE_INTEGERS.len())].to_le_bytes();
                for (i, byte) in value.iter().take(width).enumerate() {
                    if let Some(slot) = data.get_mut(at + i) {
                        *slot = *byte;
                    }
                }
            }
            9 => {
                let token = self.token();
                let at = self.below(len + 1);
                data.splice(at..at, token);
            }
            _ => self.replace_token(data),
        }
    }

    fn token(&mut self) -> Vec<u8> {
        let index = self.below(self.tokens.len());
        self.tokens[index].clone()
    }

    /// A run of digits becomes an edge number.
    fn replace_number(&mut self, data: &mut Vec<u8>) {
        let starts: Vec<usize> = (0..data.len())
            .filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit()))
            .collect();
        if starts.is_empty() {
            return;
        }
        let start = starts[self.below(starts.len())];
        let end = (start..data.len())
            .find(|&i| !matches!(data[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
            .unwrap_or(data.len());
        let number = EDGE_NUMBERS[self.below(EDGE_NUMBERS.len())].as_bytes();
        data.splice(start..end, number.iter().copied());
    }

    /// A word of the input becomes another token of the format.
    fn replace_token(&mut self, data: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        let at = self.below(data.len());
        let end = (at..data.len())
            .find(|&i| !data[i].is_ascii_alphanumeric())
            .unwrap_or(data.len());
        let token = self.token();
        data.splice(at..end, token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formats_words_become_tokens() {
        let tokens = tokens_of(&[br#"{"type":"readings","values":[{"sensor":"P1-T"}]}"#.to_vec()]);
        for word in ["type", "readings", "sensor", "P1-T"] {
            assert!(tokens.iter().any(|t| t == word.as_bytes()), "{word}");
        }
    }

    #[test]
    fn mutations_are_many_different_and_within_the_limit() {
        let seed =
            br#"{"type":"readings","t":12.5,"values":[{"sensor":"P1-T","value":41.5}]}"#.to_vec();
        let mut mutator = Mutator::new(7, std::slice::from_ref(&seed));
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..2_000 {
            let out = mutator.mutate(&seed, &seed, 100);
            assert!(out.len() <= 100);
            distinct.insert(out);
        }
        assert!(distinct.len() > 1_500, "{} distinct", distinct.len());
        // The same seed gives the same inputs.
        let mut again = Mutator::new(7, std::slice::from_ref(&seed));
        let mut first = Mutator::new(7, std::slice::from_ref(&seed));
        assert_eq!(
            first.mutate(&seed, &seed, 100),
            again.mutate(&seed, &seed, 100)
        );
    }
}
