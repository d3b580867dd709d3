-- user_sessions: a user's session habits over sessions that started in each window.
-- Only sessions entirely after the user's latest reset count (personal).
with

source as (
    select * from stg_sessions where personal
),

windowed as (
    select
        *,
        session_start >= $now::timestamp - interval 1 day as in_1d,
        session_start >= $now::timestamp - interval 7 days as in_7d,
        session_start >= $now::timestamp - interval 28 days as in_28d
    from source
),

aggregated as (
    select
        user_id,
        count_if(in_1d) as sessions_1d,
        count_if(in_7d) as sessions_7d,
        count_if(in_28d) as sessions_28d,
        coalesce(sum(length_min) filter (where in_1d), 0) as session_min_1d,
        coalesce(sum(length_min) filter (where in_7d), 0) as session_min_7d,
        coalesce(sum(length_min) filter (where in_28d), 0) as session_min_28d,
        avg(length_min) filter (where in_1d) as avg_session_min_1d,
        avg(length_min) filter (where in_7d) as avg_session_min_7d,
        avg(length_min) filter (where in_28d) as avg_session_min_28d,
        max(length_min) filter (where in_1d) as max_session_min_1d,
        max(length_min) filter (where in_7d) as max_session_min_7d,
        max(length_min) filter (where in_28d) as max_session_min_28d,
        sum(views) filter (where in_1d) as views_1d,
        sum(views) filter (where in_7d) as views_7d,
        sum(views) filter (where in_28d) as views_28d,
        sum(greatest(length_min, 1.0)) filter (where in_1d) as rate_min_1d,
        sum(greatest(length_min, 1.0)) filter (where in_7d) as rate_min_7d,
        sum(greatest(length_min, 1.0)) filter (where in_28d) as rate_min_28d,
        sum(skips) filter (where in_1d) as skips_1d,
        sum(skips) filter (where in_7d) as skips_7d,
        sum(skips) filter (where in_28d) as skips_28d,
        sum(events) filter (where in_1d) as events_1d,
        sum(events) filter (where in_7d) as events_7d,
        sum(events) filter (where in_28d) as events_28d,
        sum(late_night_share * events) filter (where in_1d) as late_1d,
        sum(late_night_share * events) filter (where in_7d) as late_7d,
        sum(late_night_share * events) filter (where in_28d) as late_28d,
        max(session_end) as last_end
    from windowed
    group by user_id
),

final as (
    select
        user_id,
        sessions_1d, sessions_7d, sessions_28d,
        session_min_1d, session_min_7d, session_min_28d,
        avg_session_min_1d, avg_session_min_7d, avg_session_min_28d,
        max_session_min_1d, max_session_min_7d, max_session_min_28d,
        views_1d / rate_min_1d as videos_per_min_1d,
        views_7d / rate_min_7d as videos_per_min_7d,
        views_28d / rate_min_28d as videos_per_min_28d,
        skips_1d / nullif(views_1d, 0) as skip_rate_1d,
        skips_7d / nullif(views_7d, 0) as skip_rate_7d,
        skips_28d / nullif(views_28d, 0) as skip_rate_28d,
        late_1d / events_1d as late_night_share_1d,
        late_7d / events_7d as late_night_share_7d,
        late_28d / events_28d as late_night_share_28d,
        date_diff('millisecond', last_end, $now::timestamp) / 3600e3 as last_session_end_hours_ago
    from aggregated
)

select * from final
