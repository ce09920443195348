// SPDX-License-Identifier: GPL-2.0-only

#include "options.h"

#include <fstream>

namespace po = boost::program_options;

namespace gecko::daemon {

std::optional<int> parse_options(const Program &program, po::options_description opts,
				 const std::vector<std::string> &args, std::ostream &out, std::ostream &err,
				 const std::function<void(const po::variables_map &)> &convert)
{
	const std::string name = program.name;
	po::variables_map vm;

	opts.add_options()
		("config,f", po::value<std::string>(), "read options from FILE (name = value lines)")
		("help,h", "show this help and exit")
		("version,V", "show the version and exit");
	try {
		po::store(po::command_line_parser(args).options(opts).run(), vm);
		if (vm.count("help")) {
			out << "Usage: " << name << " [OPTIONS]\n" << program.about << "\n\n" << opts << "\n"
			    << program.footer << "\n";
			return exit_ok;
		}
		if (vm.count("version")) {
			out << name << " " GECKO_VERSION "\n";
			return exit_ok;
		}
		/* The command line was stored first, so it wins over the file. */
		if (vm.count("config")) {
			const auto &path = vm["config"].as<std::string>();
			std::ifstream file(path);
			if (!file)
				throw Usage{"cannot read " + path};
			po::store(po::parse_config_file(file, opts), vm);
		}
		po::notify(vm);
		convert(vm);
		return std::nullopt;
	} catch (const po::error &e) {
		err << name << ": " << e.what() << "\nTry '" << name << " --help'.\n";
	} catch (const Usage &u) {
		err << name << ": " << u.why << "\nTry '" << name << " --help'.\n";
	}
	return exit_usage;
}

} // namespace gecko::daemon
