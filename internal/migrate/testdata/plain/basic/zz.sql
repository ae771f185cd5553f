SELECT 'zz';
