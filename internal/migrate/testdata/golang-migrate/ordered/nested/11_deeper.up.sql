SELECT 'ignored: not in the directory itself';
