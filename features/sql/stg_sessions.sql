-- stg_sessions: one row per session. The client's session_id when present; otherwise a
-- session is a run of the user's events without a gap longer than $session_gap_minutes.
with

source as (
    select user_id, ts, type, watch_ms, session_id, personal from stg_events
),

gapped as (
    select
        *,
        case
            when ts - lag(ts) over (partition by user_id order by ts)
                 <= to_minutes($session_gap_minutes::bigint) then 0
            else 1
        end as is_start
    from source
    where session_id is null
),

derived as (
    select
        * exclude (is_start),
        user_id || '#g' || sum(is_start) over (
            partition by user_id order by ts rows between unbounded preceding and current row
        ) as session_key
    from gapped
),

keyed as (
    select * exclude (session_id), user_id || '#s' || session_id as session_key
    from source
    where session_id is not null
    union all by name
    select * exclude (session_id) from derived
),

zones as (
    -- unknown or missing zones fall back to UTC rather than failing the whole build
    select u.user_id, coalesce(z.name, 'UTC') as tz
    from (select user_id, any_value(timezone) as timezone from users group by user_id) as u
    left join pg_timezone_names() as z on z.name = u.timezone
),

localized as (
    select
        k.*,
        hour(timezone(coalesce(z.tz, 'UTC'), timezone('UTC', k.ts))) as local_hour
    from keyed as k
    left join zones as z on z.user_id = k.user_id
),

aggregated as (
    select
        session_key,
        any_value(user_id) as user_id,
        min(ts) as session_start,
        max(ts) as session_end,
        bool_and(personal) as personal,
        count(*) as events,
        count(*) filter (where type = 'view') as views,
        count(*) filter (where type = 'skip') as skips,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) / 60000.0 as watch_min,
        count(*) filter (
            where local_hour >= $late_start_hour or local_hour < $late_end_hour
        ) as late_events
    from localized
    group by session_key
),

final as (
    select
        session_key,
        user_id,
        session_start,
        session_end,
        personal,
        events,
        views,
        skips,
        watch_min,
        date_diff('millisecond', session_start, session_end) / 60000.0 as length_min,
        views / greatest(date_diff('millisecond', session_start, session_end) / 60000.0, 1.0)
            as videos_per_min,
        skips / nullif(views, 0) as skip_rate,
        late_events / events as late_night_share
    from aggregated
)

select * from final
