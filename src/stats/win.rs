//! Win statistics of a hierarchical composite endpoint: every experimental patient is compared
//! with every control patient, layer by layer, until a layer decides the pair.
//!
//! **A layer** compares two patients i, j and says i better, j better, or undecided (the pair
//! goes to the next layer; after the last it is a tie):
//! - *time to event* (later is better), each patient's (t, δ) already cut at the layer's horizon:
//!   i is better when j's event is observed first, t_j < t_i with δ_j = 1, or at the same time
//!   when only j had the event (a censoring at an event's time counts as later, as in Gehan's
//!   test). This is Finkelstein & Schoenfeld's (1999) comparison over the pair's common
//!   follow-up: a pair whose earlier time is a censoring is not decided by this layer.
//! - *continuous* at an assessment, written so that higher is better, with a margin m ≥ 0: i is
//!   better when x_i − x_j > m. A patient not assessed (NaN) decides nothing: the pair goes on.
//!
//! **Between arms** (n₁ experimental, n₀ control, W wins and L losses of the experimental patient,
//! T = n₁n₀ − W − L ties):
//! - win ratio WR = W/L (Pocock et al. 2012); win odds WO = (W + T/2)/(L + T/2) (Brunner,
//!   Vandemeulebroecke & Mütze 2021); net benefit Δ = (W − L)/(n₁n₀) (Buyse 2010);
//! - the share of all pairs that favour the experimental arm, W/(n₁n₀), and of decided pairs,
//!   W/(W + L).
//!
//! **The Finkelstein–Schoenfeld test** (Finkelstein & Schoenfeld 1999): every patient of the
//! pooled sample (N = n₁ + n₀) is scored against every other, u_k = #(k better) − #(k worse);
//! U = Σ_{k experimental} u_k = W − L (pairs within an arm cancel), with permutation variance
//! V = n₁n₀ / (N(N − 1)) · Σ_k u_k². z = −U/√V, so that z < 0 favours the experimental arm, as
//! every test here.
//!
//! **A confidence interval for log WR** from the two-sample U-statistic variance of the win and
//! loss proportions θ̂_w = W/(n₁n₀), θ̂_l = L/(n₁n₀) (Bebu & Lachin 2016), estimated by the
//! structural components of DeLong, DeLong & Clarke-Pearson (1988): per experimental patient i,
//! w_i = (its wins)/n₀ and l_i = (its losses)/n₀; per control patient j, w_j = (the experimental
//! wins against j)/n₁ and l_j likewise; Cov(θ̂_a, θ̂_b) = S¹⁰_ab/n₁ + S⁰¹_ab/n₀ with S¹⁰_ab the
//! sample covariance (divisor n₁ − 1) of a_i, b_i over experimental patients and S⁰¹_ab over
//! controls. By the delta method, Var(log WR) = V_ww/θ_w² + V_ll/θ_l² − 2V_wl/(θ_w θ_l).
//!
//! Not estimable (NaN, never an error): WR and its SE when W or L is 0; the FS z when V = 0 (every
//! pair tied); everything when an arm is empty.

/// One layer of the hierarchy, as the statistic reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layer {
    /// Time to event: each patient's (time, event), already cut at the layer's horizon.
    Event,
    /// A continuous value, higher better (NaN: not assessed), with a margin m ≥ 0.
    Continuous { margin: f64 },
}

/// The patients of one trial on every layer, experimental patients first.
#[derive(Debug, Clone, Default)]
pub struct WinData {
    /// Experimental patients (the first `experimental` rows), then control patients.
    pub experimental: usize,
    pub control: usize,
    /// The layers, in priority order.
    pub layers: Vec<Layer>,
    /// Per layer, each patient's value: the time (event layers) or the value (continuous).
    pub value: Vec<Vec<f64>>,
    /// Per layer, each patient's event indicator (event layers; unused for continuous ones).
    pub event: Vec<Vec<bool>>,
}

impl WinData {
    /// Forgets the patients, keeping the buffers; `layers` as given.
    pub fn clear(&mut self, layers: &[Layer]) {
        self.experimental = 0;
        self.control = 0;
        self.layers.clear();
        self.layers.extend_from_slice(layers);
        self.value.resize_with(layers.len(), Vec::new);
        self.event.resize_with(layers.len(), Vec::new);
        for (v, e) in self.value.iter_mut().zip(&mut self.event) {
            v.clear();
            e.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.experimental + self.control
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The win statistics of one trial (see the module doc).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WinStats {
    pub wins: u64,
    pub losses: u64,
    pub ties: u64,
    /// Per layer: the experimental arm's wins and losses decided there.
    pub layer_wins: Vec<u64>,
    pub layer_losses: Vec<u64>,
    pub win_ratio: f64,
    pub win_odds: f64,
    pub net_benefit: f64,
    /// W / (n₁n₀) and W / (W + L).
    pub share_all: f64,
    pub share_decided: f64,
    /// The Finkelstein–Schoenfeld z (< 0 favours the experimental arm).
    pub z: f64,
    /// The SE of log WR (U-statistic variance).
    pub log_wr_se: f64,
}

/// Which of two patients a pair's comparison favours, and the layer that decided it.
#[inline(always)]
fn compare(data: &WinData, i: usize, j: usize) -> (i8, usize) {
    for (l, layer) in data.layers.iter().enumerate() {
        let v = &data.value[l];
        let (xi, xj) = (v[i], v[j]);
        let (i_better, j_better) = match *layer {
            Layer::Event => {
                let e = &data.event[l];
                let (di, dj) = (e[i], e[j]);
                (dj & ((xj < xi) | ((xj == xi) & !di)), di & ((xi < xj) | ((xi == xj) & !dj)))
            }
            Layer::Continuous { margin } => (xi - xj > margin, xj - xi > margin),
        };
        if i_better {
            return (1, l);
        }
        if j_better {
            return (-1, l);
        }
    }
    (0, data.layers.len())
}

/// Buffers of [`win_statistics`], reused across trials.
#[derive(Debug, Clone, Default)]
pub struct WinScratch {
    /// Finkelstein–Schoenfeld scores, per patient.
    score: Vec<i64>,
    /// Between arms, per patient: wins and losses of the experimental arm in its pairs.
    wins: Vec<u32>,
    losses: Vec<u32>,
}

/// The win statistics of `data` (see the module doc), by enumerating every pair of the pooled
/// sample once.
pub fn win_statistics(data: &WinData, ws: &mut WinScratch, out: &mut WinStats) {
    let (n1, n0) = (data.experimental, data.control);
    let n = n1 + n0;
    let layers = data.layers.len();
    out.layer_wins.clear();
    out.layer_wins.resize(layers, 0);
    out.layer_losses.clear();
    out.layer_losses.resize(layers, 0);
    ws.score.clear();
    ws.score.resize(n, 0);
    ws.wins.clear();
    ws.wins.resize(n, 0);
    ws.losses.clear();
    ws.losses.resize(n, 0);
    // Pairs within the experimental arm, then between arms, then within the control arm.
    for i in 0..n {
        for j in i + 1..n {
            let (s, l) = compare(data, i, j);
            ws.score[i] += i64::from(s);
            ws.score[j] -= i64::from(s);
            if i < n1 && j >= n1 {
                if s > 0 {
                    out.layer_wins[l] += 1;
                    ws.wins[i] += 1;
                    ws.wins[j] += 1;
                } else if s < 0 {
                    out.layer_losses[l] += 1;
                    ws.losses[i] += 1;
                    ws.losses[j] += 1;
                }
            }
        }
    }
    let wins: u64 = out.layer_wins.iter().sum();
    let losses: u64 = out.layer_losses.iter().sum();
    let pairs = (n1 * n0) as u64;
    out.wins = wins;
    out.losses = losses;
    out.ties = pairs - wins - losses;
    summarise(n1, n0, &ws.score, &ws.wins, &ws.losses, out);
}

/// Everything but the counts, from the counts and the per-patient scores.
fn summarise(n1: usize, n0: usize, score: &[i64], wins: &[u32], losses: &[u32], out: &mut WinStats) {
    let nan = f64::NAN;
    let (w, l, t) = (out.wins as f64, out.losses as f64, out.ties as f64);
    let pairs = (n1 * n0) as f64;
    if n1 == 0 || n0 == 0 {
        (out.win_ratio, out.win_odds, out.net_benefit, out.share_all, out.share_decided) =
            (nan, nan, nan, nan, nan);
        (out.z, out.log_wr_se) = (nan, nan);
        return;
    }
    let estimable = w > 0.0 && l > 0.0;
    out.win_ratio = if estimable { w / l } else { nan };
    out.win_odds = if l + 0.5 * t > 0.0 { (w + 0.5 * t) / (l + 0.5 * t) } else { nan };
    out.net_benefit = (w - l) / pairs;
    out.share_all = w / pairs;
    out.share_decided = if w + l > 0.0 { w / (w + l) } else { nan };
    // Finkelstein–Schoenfeld: U = W − L, permutation variance from the pooled scores.
    let n = (n1 + n0) as f64;
    let sum_sq: f64 = score.iter().map(|&u| (u as f64) * (u as f64)).sum();
    let v = (n1 as f64) * (n0 as f64) / (n * (n - 1.0)) * sum_sq;
    out.z = if v > 0.0 { -(w - l) / v.sqrt() } else { nan };
    // Bebu & Lachin: the U-statistic (co)variances of θ̂_w and θ̂_l.
    out.log_wr_se = if estimable && n1 > 1 && n0 > 1 {
        let (tw, tl) = (w / pairs, l / pairs);
        let component = |range: std::ops::Range<usize>, other: f64| {
            let k = range.len() as f64;
            let (mut ww, mut ll, mut wl) = (0.0, 0.0, 0.0);
            for i in range {
                let (a, b) = (f64::from(wins[i]) / other - tw, f64::from(losses[i]) / other - tl);
                ww += a * a;
                ll += b * b;
                wl += a * b;
            }
            [ww / (k - 1.0) / k, ll / (k - 1.0) / k, wl / (k - 1.0) / k]
        };
        let e = component(0..n1, n0 as f64);
        let c = component(n1..n1 + n0, n1 as f64);
        let (vww, vll, vwl) = (e[0] + c[0], e[1] + c[1], e[2] + c[2]);
        let var = vww / (tw * tw) + vll / (tl * tl) - 2.0 * vwl / (tw * tl);
        if var > 0.0 { var.sqrt() } else { nan }
    } else {
        nan
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(exp: &[(f64, bool)], ctl: &[(f64, bool)]) -> WinData {
        let mut d = WinData::default();
        d.clear(&[Layer::Event]);
        d.experimental = exp.len();
        d.control = ctl.len();
        for &(t, e) in exp.iter().chain(ctl) {
            d.value[0].push(t);
            d.event[0].push(e);
        }
        d
    }

    /// Without censoring a death layer counts Gehan's (Mann–Whitney's) pairs: an experimental
    /// patient wins when the control patient died first.
    #[test]
    fn uncensored_deaths_count_mann_whitney_pairs() {
        let exp = [(3.0, true), (1.0, true), (5.0, true)];
        let ctl = [(2.0, true), (0.5, true), (3.0, true), (4.0, true)];
        let mut out = WinStats::default();
        win_statistics(&data(&exp, &ctl), &mut WinScratch::default(), &mut out);
        // 3 beats 2, 0.5 (ties 3); 1 beats 0.5; 5 beats all four.
        assert_eq!((out.wins, out.losses, out.ties), (7, 4, 1));
        assert_eq!(out.win_ratio, 7.0 / 4.0);
        assert_eq!(out.win_odds, 7.5 / 4.5);
    }

    /// A censoring before the other's event decides nothing; at the same time as the other's
    /// event it counts as later.
    #[test]
    fn censoring_decides_only_over_common_follow_up() {
        let mut out = WinStats::default();
        let mut ws = WinScratch::default();
        win_statistics(&data(&[(1.0, false)], &[(2.0, true)]), &mut ws, &mut out);
        assert_eq!((out.wins, out.losses, out.ties), (0, 0, 1));
        win_statistics(&data(&[(2.0, false)], &[(2.0, true)]), &mut ws, &mut out);
        assert_eq!((out.wins, out.losses, out.ties), (1, 0, 0));
        win_statistics(&data(&[(3.0, true)], &[(2.0, false)]), &mut ws, &mut out);
        assert_eq!((out.wins, out.losses, out.ties), (0, 0, 1));
    }

    /// A tie on the first layer goes to the next; a missing value ties the pair there.
    #[test]
    fn ties_go_to_the_next_layer_and_missing_values_tie() {
        let mut d = WinData::default();
        d.clear(&[Layer::Event, Layer::Continuous { margin: 1.0 }]);
        (d.experimental, d.control) = (2, 2);
        // Everyone censored at 4 (no event): the continuous layer decides.
        d.value[0] = vec![4.0; 4];
        d.event[0] = vec![false; 4];
        d.value[1] = vec![5.0, f64::NAN, 3.5, 2.0];
        let mut out = WinStats::default();
        win_statistics(&d, &mut WinScratch::default(), &mut out);
        // 5 vs 3.5: win (margin 1); 5 vs 2: win; NaN vs anything: tie.
        assert_eq!((out.wins, out.losses, out.ties), (2, 0, 2));
        assert_eq!((out.layer_wins.clone(), out.layer_losses.clone()), (vec![0, 2], vec![0, 0]));
        assert!(out.win_ratio.is_nan(), "no losses: WR not estimable");
        // FS: U = W − L = 2 and scores 5→+2 (beats 3.5 and 2), 3.5→−1+1, 2→−1−1... checked
        // against the brute-force reference in tests/win.rs; here only its sign.
        assert!(out.z < 0.0);
    }
}
