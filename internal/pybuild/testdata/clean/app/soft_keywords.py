match = 1
match match:
    case 1:
        pass
