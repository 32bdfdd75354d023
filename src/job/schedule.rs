//! Running the nodes of a DAG side by side: a node starts once every node
//! it waits for is done, at most `limit` at a time, in run order among
//! those ready. Why side by side: a table of a few thousand rows leaves one
//! of the cores idle while it plans, writes a small file or fits a model,
//! and the next independent table can use it.

use std::future::Future;

use futures::stream::{FuturesUnordered, StreamExt};

/// Run node `i` with `run(i)` for every node of `waits` (`waits[i]`: the
/// nodes `i` reads, all before `i`, as in a topological run order), at most
/// `limit` (at least 1) at a time. The results come in node order. The
/// first error ends the run: the nodes still running are dropped, and no
/// further node starts.
pub async fn in_dag_order<T, E, Fut>(
    waits: &[Vec<usize>],
    limit: usize,
    mut run: impl FnMut(usize) -> Fut,
) -> Result<Vec<T>, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    debug_assert!(
        waits
            .iter()
            .enumerate()
            .all(|(i, w)| w.iter().all(|&d| d < i)),
        "a node waits only for nodes before it"
    );
    let mut results: Vec<Option<T>> = waits.iter().map(|_| None).collect();
    let mut started = vec![false; waits.len()];
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < limit.max(1) {
            let ready = (0..waits.len())
                .find(|&i| !started[i] && waits[i].iter().all(|&d| results[d].is_some()));
            let Some(i) = ready else { break };
            started[i] = true;
            let node = run(i);
            running.push(async move { (i, node.await) });
        }
        // with nothing running, every node has started (each one's waits
        // are before it, so the first not started would have been ready)
        let Some((i, result)) = running.next().await else {
            break;
        };
        results[i] = Some(result?);
    }
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// What the nodes did, in the order they did it.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Step {
        Start(usize),
        End(usize),
    }

    /// Run `waits` with `limit`; node `fail` (if any) fails after
    /// yielding. Every node yields `work[i]` times between start and end,
    /// so that nodes running together interleave.
    fn simulate(
        waits: &[Vec<usize>],
        work: &[usize],
        limit: usize,
        fail: Option<usize>,
    ) -> (Result<Vec<usize>, String>, Vec<Step>) {
        let log = Mutex::new(Vec::new());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let result = rt.block_on(in_dag_order(waits, limit, |i| {
            let log = &log;
            async move {
                log.lock().unwrap().push(Step::Start(i));
                for _ in 0..work[i] {
                    tokio::task::yield_now().await;
                }
                if fail == Some(i) {
                    return Err(format!("node {i} failed"));
                }
                log.lock().unwrap().push(Step::End(i));
                Ok(i * 10)
            }
        }));
        (result, log.into_inner().unwrap())
    }

    /// The largest number of nodes running at once.
    fn most_at_once(log: &[Step]) -> usize {
        let mut now = 0usize;
        let mut most = 0;
        for step in log {
            match step {
                Step::Start(_) => now += 1,
                Step::End(_) => now -= 1,
            }
            most = most.max(now);
        }
        most
    }

    fn position(log: &[Step], step: Step) -> usize {
        log.iter().position(|s| *s == step).unwrap()
    }

    // 0 -> {1, 2} -> 3, and 4 alone; 1 is long, 2 and 4 are short
    fn diamond() -> Vec<Vec<usize>> {
        vec![vec![], vec![0], vec![0], vec![1, 2], vec![]]
    }
    const WORK: [usize; 5] = [3, 20, 2, 1, 2];

    #[test]
    fn a_node_starts_after_what_it_reads_and_no_more_than_the_limit_run() {
        let waits = diamond();
        let (result, log) = simulate(&waits, &WORK, 2, None);
        assert_eq!(result.unwrap(), [0, 10, 20, 30, 40]);
        for (i, w) in waits.iter().enumerate() {
            for &d in w {
                assert!(
                    position(&log, Step::End(d)) < position(&log, Step::Start(i)),
                    "{i} started before {d} ended: {log:?}"
                );
            }
        }
        assert_eq!(most_at_once(&log), 2, "{log:?}");
        // 0 and 4 (ready at once) start together; 4 does not wait for 3
        let first: Vec<Step> = log[..2].to_vec();
        assert!(
            first.contains(&Step::Start(0)) && first.contains(&Step::Start(4)),
            "{log:?}"
        );
        assert!(position(&log, Step::Start(4)) < position(&log, Step::Start(3)));
    }

    #[test]
    fn a_limit_of_one_runs_the_nodes_one_by_one_in_order() {
        let (result, log) = simulate(&diamond(), &WORK, 1, None);
        assert_eq!(result.unwrap(), [0, 10, 20, 30, 40]);
        let expected: Vec<Step> = (0..5)
            .flat_map(|i| [Step::Start(i), Step::End(i)])
            .collect();
        assert_eq!(log, expected);
        // a limit of 0 is taken as 1
        assert_eq!(simulate(&diamond(), &WORK, 0, None).1, expected);
    }

    #[test]
    fn the_first_failure_ends_the_run_and_nothing_after_it_starts() {
        let (result, log) = simulate(&diamond(), &WORK, 2, Some(2));
        assert_eq!(result.unwrap_err(), "node 2 failed");
        // 3 reads 2: never started; 1 was running and never ended
        assert!(!log.contains(&Step::Start(3)), "{log:?}");
        assert!(log.contains(&Step::Start(1)), "{log:?}");
        assert!(!log.contains(&Step::End(1)), "{log:?}");
    }
}
