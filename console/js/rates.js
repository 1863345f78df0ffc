// Rows in and out per second and errors, from successive polls of each pipeline's counters,
// kept for the last minutes here so that every page draws the same history.

/** How much history is kept and drawn. */
export const WINDOW_MS = 5 * 60 * 1000;

const histories = new Map();

/** The totals of a status: rows into and out of the statement, errors of every stage. */
export function totals(status) {
  const plan = status.stages.find((stage) => stage.kind === "plan");
  return {
    rowsIn: plan?.stats.records_in ?? 0,
    rowsOut: plan?.stats.records_out ?? 0,
    errors: status.stages.reduce((sum, stage) => sum + stage.stats.error_count, 0),
  };
}

/** Records the status of pipeline `id` polled at `at`; answers the latest rates (per
 * second, null until two polls), the errors so far and the points of the window. */
export function record(id, status, at = Date.now()) {
  const now = totals(status);
  const history = histories.get(id) ?? { last: null, points: [] };
  const last = history.last;
  if (last && at > last.at) {
    const seconds = (at - last.at) / 1000;
    // A restarted pipeline counts from zero again: no negative rate.
    const rate = (current, before) => Math.max(0, current - before) / seconds;
    history.points.push({
      at,
      rowsIn: rate(now.rowsIn, last.rowsIn),
      rowsOut: rate(now.rowsOut, last.rowsOut),
    });
  }
  history.last = { at, ...now };
  history.points = history.points.filter((point) => point.at >= at - WINDOW_MS);
  histories.set(id, history);
  const latest = history.points.at(-1);
  return {
    rowsIn: latest?.rowsIn ?? null,
    rowsOut: latest?.rowsOut ?? null,
    errors: now.errors,
    points: history.points,
  };
}

/** Forgets a deleted pipeline. */
export function forget(id) {
  histories.delete(id);
}
