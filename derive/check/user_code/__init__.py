"""check/user_code"""
