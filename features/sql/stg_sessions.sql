-- stg_sessions: one row per session. The client's session_id when present; otherwise a
-- session is a run of the user's events without a gap longer than $session_gap_minutes.
-- Only id-less events are sorted; everything else is hash-aggregated, and time zones are
-- applied per 15-minute bucket (every real UTC offset is a multiple of 15 minutes).
with

-- Read straight from events (sessions need no item facts, and stg_events' join to items
-- cannot be dropped by the optimizer); inlined into both branches, never materialised.
resets as (
    select user_id, max(ts) as reset_ts
    from user_resets
    where ts <= $now
    group by user_id
),

source as not materialized (
    select
        e.user_id, e.ts, e.type, e.watch_ms, e.session_id,
        r.reset_ts is null or e.ts >= r.reset_ts as personal
    from events as e
    left join resets as r on r.user_id = e.user_id
    where e.ts < $now
),

gapped as (
    select
        user_id, ts, type, watch_ms, personal,
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
        user_id, ts, type, watch_ms, personal,
        null::varchar as session_id,
        sum(is_start) over (
            partition by user_id order by ts rows between unbounded preceding and current row
        ) as gap_session
    from gapped
),

keyed as (
    select user_id, ts, type, watch_ms, personal, session_id, null::bigint as gap_session
    from source
    where session_id is not null
    union all
    select * from derived
),

bucketed as (
    select
        user_id,
        session_id,
        gap_session,
        time_bucket(interval 15 minutes, ts) as bucket,
        min(ts) as first_ts,
        max(ts) as last_ts,
        bool_and(personal) as personal,
        count(*) as events,
        count_if(type = 'view') as views,
        count_if(type = 'skip') as skips,
        coalesce(sum(watch_ms) filter (where type = 'view'), 0) as watch_ms
    from keyed
    group by user_id, session_id, gap_session, bucket
),

zones as (
    -- unknown or missing zones fall back to UTC rather than failing the whole build
    select u.user_id, coalesce(z.name, 'UTC') as tz
    from (select user_id, any_value(timezone) as timezone from users group by user_id) as u
    left join pg_timezone_names() as z on z.name = u.timezone
),

localized as (
    select
        b.*,
        hour(timezone(coalesce(z.tz, 'UTC'), timezone('UTC', b.bucket))) as local_hour
    from bucketed as b
    left join zones as z on z.user_id = b.user_id
),

aggregated as (
    select
        user_id,
        session_id,
        gap_session,
        min(first_ts) as session_start,
        max(last_ts) as session_end,
        bool_and(personal) as personal,
        sum(events)::bigint as events,
        sum(views)::bigint as views,
        sum(skips)::bigint as skips,
        sum(watch_ms) / 60000.0 as watch_min,
        coalesce(sum(events) filter (
            where local_hour >= $late_start_hour or local_hour < $late_end_hour
        ), 0) as late_events
    from localized
    group by user_id, session_id, gap_session
),

final as (
    select
        -- built per session, not per event: '#s' + client id, or '#g' + derived number
        user_id || coalesce('#s' || session_id, '#g' || gap_session) as session_key,
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
