package Test::Nginx::Socket;

# ngx_gw's bundled Test::Nginx::Socket: runs the same data blocks as the
# CPAN distribution (the sections this project uses), on Test::Base.  The
# work is done in Test::Nginx::Util; this file only wires it to Test::Base,
# whose -Base mode gives every sub an implicit $self, so no subs are
# defined here.

use Test::Base -Base;

use Test::Nginx::Util ();

our $VERSION = '0.30-ngx_gw';

our @EXPORT = qw(
    run_tests run_test repeat_each no_shuffle master_on master_off workers
    worker_connections log_level no_root_location add_block_preprocessor
    env_to_nginx no_long_string server_port server_root html_dir
);

*run_tests = \&Test::Nginx::Util::run_tests;
*run_test = \&Test::Nginx::Util::run_test;
*repeat_each = \&Test::Nginx::Util::repeat_each;
*no_shuffle = \&Test::Nginx::Util::no_shuffle;
*master_on = \&Test::Nginx::Util::master_on;
*master_off = \&Test::Nginx::Util::master_off;
*workers = \&Test::Nginx::Util::workers;
*worker_connections = \&Test::Nginx::Util::worker_connections;
*log_level = \&Test::Nginx::Util::log_level;
*no_root_location = \&Test::Nginx::Util::no_root_location;
*add_block_preprocessor = \&Test::Nginx::Util::add_block_preprocessor;
*env_to_nginx = \&Test::Nginx::Util::env_to_nginx;
*no_long_string = \&Test::Nginx::Util::no_long_string;
*server_port = \&Test::Nginx::Util::server_port;
*server_root = \&Test::Nginx::Util::server_root;
*html_dir = \&Test::Nginx::Util::html_dir;

1;
