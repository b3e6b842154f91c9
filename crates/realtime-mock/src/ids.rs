//! Identifiers and the small deterministic random generator behind them.
//!
//! Ids look like the real service's: a prefix and 21 letters and digits (`item_E6U11eeiqpcw4luxPkEiJ`).
//! Each session draws from its own generator, seeded from the server seed and the session index,
//! so a seeded server produces the same ids run after run.

/// The letters and digits ids and padding are made of.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// SplitMix64: tiny, fast, and good enough for ids, padding and noise.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// A float in `-1.0..1.0`.
    pub(crate) fn signed_unit(&mut self) -> f32 {
        // 24 random bits are all an f32 mantissa holds.
        let bits = (self.next_u64() >> 40) as u32;
        (bits as f32 / (1u32 << 23) as f32) - 1.0
    }

    /// `len` random letters and digits.
    pub(crate) fn alphanumeric(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(ALPHABET[self.below(ALPHABET.len() as u64) as usize]))
            .collect()
    }

    /// An id in the real service's style: `prefix_` and 21 letters and digits.
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        let mut id = String::with_capacity(prefix.len() + 22);
        id.push_str(prefix);
        id.push('_');
        id.push_str(&self.alphanumeric(21));
        id
    }

    /// `len` random lowercase hexadecimal digits.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8] = b"0123456789abcdef";
        (0..len)
            .map(|_| char::from(DIGITS[self.below(16) as usize]))
            .collect()
    }

    /// A random (version 4) UUID, as xAI writes its ids: `2f0a59cc-7868-43a7-9cab-03759fe911c6`.
    pub(crate) fn uuid(&mut self) -> String {
        let hex = self.hex(32);
        // Version 4, variant 10xx: the 13th digit is 4, the 17th one of 8, 9, a, b.
        let variant = ["8", "9", "a", "b"][self.below(4) as usize];
        format!(
            "{}-{}-4{}-{variant}{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }
}

/// A seed from the clock, for servers that were not given one.
pub(crate) fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    // Fold the 128-bit count; the low bits change fastest.
    (nanos as u64) ^ ((nanos >> 64) as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// Mixes a session index into the server seed, so sessions differ but stay reproducible.
pub(crate) fn session_seed(server_seed: u64, index: usize) -> u64 {
    let mut rng = Rng::new(server_seed ^ (index as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    rng.next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_the_real_ones_and_are_reproducible() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let id = a.id("item");
        assert_eq!(id, b.id("item"));
        assert_eq!(id.len(), "item_E6U11eeiqpcw4luxPkEiJ".len());
        assert!(id[5..].bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_ne!(a.id("item"), id);
    }

    #[test]
    fn uuids_have_the_version_4_shape() {
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let uuid = rng.uuid();
            let groups: Vec<&str> = uuid.split('-').collect();
            let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
            assert_eq!(lengths, [8, 4, 4, 4, 12], "{uuid}");
            assert!(groups[2].starts_with('4'), "{uuid}");
            assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{uuid}");
            assert!(uuid.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        }
        assert_eq!(Rng::new(3).hex(32).len(), 32);
    }

    #[test]
    fn signed_unit_stays_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            let x = rng.signed_unit();
            assert!((-1.0..1.0).contains(&x), "{x}");
        }
    }
}
