SELECT 'seed';
