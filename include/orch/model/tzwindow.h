/* tzwindow.h - a daily maintenance window (--window 02:00-05:00) in a
 * time zone: its text, and the next window to schedule a job in.
 *
 * A window is a start and an end on the local wall clock. An end earlier
 * than the start (22:00-04:00) is on the next day: the window crosses
 * midnight. An end equal to the start is refused (a window of no time or
 * of a whole day is not a maintenance window), and so is a window shorter
 * than 1 hour: the API wants ScheduleFinishTime 1 hour to 30 days after
 * ScheduleTime.
 *
 * Daylight-saving days: a start or end that does not exist that day (the
 * clocks jump over it) is the first instant after the jump; one that
 * happens twice is its first occurrence (tzdb.h, orch_tz_resolve). When a
 * jump leaves less than an hour between the two, the end is moved to
 * 1 hour after the start, so that the job is still accepted.
 *
 * Pure functions; a window is a caller-owned value. Thread-safe.
 */
#ifndef ORCH_TZWINDOW_H
#define ORCH_TZWINDOW_H

#include <stddef.h>
#include <stdint.h>

struct orch_diag;
struct orch_tz;

/* A window starts at least this long after the time asked from: the API
 * refuses a ScheduleTime less than 5 minutes ahead. */
#define ORCH_WINDOW_LEAD_MS (5 * 60 * 1000LL)
/* The API's least ScheduleFinishTime - ScheduleTime. */
#define ORCH_WINDOW_MIN_MS (60 * 60 * 1000LL)

struct orch_window {
    int start_min; /* minutes after local midnight, 0..1439 */
    int end_min;   /* the same; <= start_min: on the next day */
};

/* Parses "HH:MM-HH:MM" (24-hour clock, 00:00..23:59). Returns 0, or
 * ORCH_ECONFIG with diag (naming --window) when the text is not a
 * window, or the window is empty or shorter than 1 hour. */
int orch_window_parse(const char *s, struct orch_window *w,
                      struct orch_diag *diag);

/* The window's length in minutes on a day without a clock change. */
int orch_window_minutes(const struct orch_window *w);

/* "02:00-05:00" into out (at least 12 bytes). */
void orch_window_format(const struct orch_window *w, char *out, size_t outsz);

/* The first window in zone tz that starts at or after
 * after_ms + ORCH_WINDOW_LEAD_MS: *start_ms its ScheduleTime and *end_ms
 * its ScheduleFinishTime (epoch ms, whole seconds). */
void orch_window_next(const struct orch_tz *tz, const struct orch_window *w,
                      int64_t after_ms, int64_t *start_ms, int64_t *end_ms);

/* Instant ms as the zone's wall clock, "2026-03-29 03:00 +02:00", into
 * out (at least 32 bytes). */
void orch_window_format_local(const struct orch_tz *tz, int64_t ms, char *out,
                              size_t outsz);

#endif
