-- mart_sessions: one row per session, as the feature sets define it (stg_sessions: the client's
-- session_id when present, else a run of events without a gap over session_gap_minutes).
-- depends_on: _fw_stg_sessions
--   session_key: unique session key (user id + client session id or gap counter)
--   user_id: the user
--   session_start: first event (naive UTC)
--   session_end: last event (naive UTC)
--   day: UTC calendar date of session_start
--   minutes: session_end - session_start in minutes
--   watch_minutes: total watch time of the session's views in minutes
--   videos: number of views
--   events: number of events
--   skip_rate: skips / views (NULL without views)
--   late_night_share: share of the session's events in local late night (0-1)
--   age_band: the user's age band at session_start
with

sessions as (
    select * from _fw_stg_sessions
),

users_of_record as (
    select user_id, any_value(birth_date) as birth_date from users group by user_id
),

final as (
    select
        s.session_key,
        s.user_id,
        s.session_start,
        s.session_end,
        s.session_start::date as day,
        s.length_min as minutes,
        s.watch_min as watch_minutes,
        s.views as videos,
        s.events,
        s.skip_rate,
        s.late_night_share,
        fw_age_band(u.birth_date, s.session_start) as age_band
    from sessions as s
    left join users_of_record as u on u.user_id = s.user_id
)

select * from final
