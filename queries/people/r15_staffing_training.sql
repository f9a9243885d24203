-- id: r15_staffing_training
-- title: Unqualified or insufficient staff on key posts
-- severity: yellow
-- for: 0s
-- clear_after: 0s
-- basis: MEM 2018 grading guide, direct-red item 3 (uncertified special operators); hidden-hazard list; resumption risks
-- suggested_action: Take uncertified and untrained people off their posts; fill key posts before running.
--
-- Latest staffing snapshot. Uncertified special operators: red. Untrained people on post or
-- key posts under 80 % filled (90 % where the region's epidemic level is high): orange. New or
-- transferred staff over 30 % of those on key posts: yellow.
SELECT s.enterprise_id,
       s.enterprise_id AS subject,
       CASE
         WHEN s.special_ops_uncertified_n > 0 THEN 'red'
         WHEN s.on_post_untrained_n > 0
              OR CAST(s.key_posts_filled AS DOUBLE) < CAST(s.key_posts_required AS DOUBLE)
                   * CASE WHEN r.epidemic_level = 'high' THEN 0.9 ELSE 0.8 END THEN 'orange'
         ELSE 'yellow'
       END AS color,
       CAST(s.key_posts_filled AS DOUBLE) / CAST(s.key_posts_required AS DOUBLE) AS value,
       CASE WHEN r.epidemic_level = 'high' THEN 0.9 ELSE 0.8 END AS threshold,
       concat('staffing ', CAST(s.date AS VARCHAR), ': ',
              CAST(s.special_ops_uncertified_n AS VARCHAR), ' uncertified, ',
              CAST(s.on_post_untrained_n AS VARCHAR), ' untrained, key posts ',
              CAST(s.key_posts_filled AS VARCHAR), '/', CAST(s.key_posts_required AS VARCHAR), ', ',
              CAST(s.new_or_transferred_n AS VARCHAR), ' new') AS message,
       s.special_ops_uncertified_n,
       s.on_post_untrained_n,
       s.key_posts_filled,
       s.key_posts_required,
       s.new_or_transferred_n,
       r.epidemic_level
FROM staffing s
LEFT JOIN enterprises e ON e.enterprise_id = s.enterprise_id
LEFT JOIN regions r ON r.region_id = e.region_id
WHERE s.special_ops_uncertified_n > 0
   OR s.on_post_untrained_n > 0
   OR CAST(s.key_posts_filled AS DOUBLE) < CAST(s.key_posts_required AS DOUBLE)
        * CASE WHEN r.epidemic_level = 'high' THEN 0.9 ELSE 0.8 END
   OR s.new_or_transferred_n * 10 > s.key_posts_filled * 3
