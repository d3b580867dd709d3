-- video_totals: a video's all-time columns of video_engagement, from the sums of its part_item
-- rows (every bucket). The one definition of these figures: video_engagement.sql calls it over
-- the kept partials, and the live tiles (features/live_tiles.py) over their running sums.
-- NULL sums (a video with no events) give views_total 0 and NULL rates, as the catalog documents.
create or replace temp macro video_totals(
    views, completion_sum, completion_n, likes, shares, remixes, comments, hides, reports
) as {
    'views_total': coalesce(views, 0)::bigint,
    'completion_rate_total': completion_sum / completion_n,
    'like_rate_total': likes / nullif(views, 0),
    'create_rate_total': (shares + remixes + comments) / nullif(views, 0),
    'negative_rate_total': (hides + reports) / nullif(views, 0)
};
